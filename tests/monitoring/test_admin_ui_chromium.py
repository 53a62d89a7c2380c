"""The official Admin UI (npm @socket.io/admin-ui 0.5.1, tools/admin-ui), served at /admin-ui/, in
headless Chromium: it logs in to our /admin and lists the demo's sockets. Only 127.0.0.1 is reachable
(the UI's web fonts and icon font are on CDNs: the page works without them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from apoio_node import ClientesAtendimento

from .apoio_chromium import pagina_local
from .conftest import ADMIN_SENHA, ADMIN_USUARIO, Subir

RAIZ = Path(__file__).resolve().parents[2]
PASTA_UI = RAIZ / "tools" / "admin-ui"
DIST = PASTA_UI / "node_modules" / "@socket.io" / "admin-ui" / "ui" / "dist"
CAPTURA = Path(os.environ.get("ATENDIMENTO_ADMIN_UI_SCREENSHOT", "/tmp/atendimento-admin-ui.png"))


def _instalar_ui() -> None:
    """What `make admin-ui` does, for a fresh clone: npm ci from the committed lock."""
    if (DIST / "index.html").is_file():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install the Admin UI (tools/admin-ui)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PASTA_UI, check=True, timeout=300)


async def test_admin_ui_logs_in_and_lists_the_demo_sockets(subir_app: Subir) -> None:
    _instalar_ui()
    app = await subir_app(admin_ui=True, admin_ui_dir=DIST)
    node = await ClientesAtendimento(app.url).iniciar()
    bloqueadas: list[str] = []
    try:
        emails = ("ana@demo.local", "bruno@demo.local", "gestor@demo.local", "carla@outra.local")
        for email in emails:
            assert (await node.conectar(email, app.token(email)))["type"] == "connect"
        ids = {r["id"] for r in node.registros if r.get("type") == "connect"}
        sid_ana = next(r["id"] for r in node.of("ana@demo.local", "connect"))

        async with pagina_local(bloqueadas) as pagina:
            resposta = await pagina.goto(app.url + "/admin-ui/")
            assert resposta is not None and resposta.status == 200
            # The login form: server URL, user, password (Vuetify text fields, in this order).
            campos = pagina.locator(".v-dialog input[type=text], .v-dialog input[type=password]")
            await campos.first.wait_for(timeout=60_000)
            await campos.nth(0).fill(app.url)
            await campos.nth(1).fill(ADMIN_USUARIO)
            await pagina.locator(".v-dialog input[type=password]").fill(ADMIN_SENHA)
            await pagina.locator(".v-dialog button[type=submit]").click()
            try:
                await pagina.locator(".v-dialog").first.wait_for(state="hidden", timeout=60_000)
            except Exception:
                await pagina.screenshot(path=str(CAPTURA.with_suffix(".falha.png")))
                raise

            # Production-mode UI (no ALL_EVENTS) hides the Sockets entry in its menu; the page exists.
            await pagina.goto(app.url + "/admin-ui/#/sockets/")
            for sid in ids:
                await pagina.get_by_text(sid).wait_for(timeout=60_000)
            await pagina.screenshot(path=str(CAPTURA), full_page=True)
            texto = await pagina.locator("body").inner_text()
            # A socket's page: its data says who it is (name, tenant, role), its rooms are listed.
            await pagina.get_by_text(sid_ana).click()
            await pagina.get_by_text('"nome": "Ana Souza"').wait_for(timeout=60_000)
            detalhe = await pagina.locator("body").inner_text()
            await pagina.screenshot(path=str(CAPTURA.with_name(CAPTURA.stem + "-socket.png")), full_page=True)
    finally:
        await node.fechar()
    for sid in ids:
        assert sid in texto
    assert all("127.0.0.1" not in url for url in bloqueadas)
    assert f'"empresaId": "{app.resumo.empresa_id}"' in detalhe and '"role": "atendente"' in detalhe
    assert f"empresa:{app.resumo.empresa_id}:atendentes" in detalhe
    assert app.token("ana@demo.local") not in detalhe
