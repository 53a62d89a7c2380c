"""The console's administration screen and the queue's customer, channel and unread counts, in
headless Chromium against the real product on the demo data."""

from __future__ import annotations

from playwright.async_api import expect

from .apoio_console import entrar
from .conftest import Paginas, Produto


async def test_admin_cria_fila_usuario_canal_e_desativa(produto: Produto, paginas: Paginas) -> None:
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "admin@demo.local")
    await pagina.get_by_role("button", name="Administração").click()
    admin = pagina.locator(".admin")
    await expect(admin.get_by_role("list", name="Usuários")).to_contain_text("ana@demo.local")
    await expect(admin.get_by_role("list", name="Canais")).to_contain_text("WhatsApp")

    # A new automatic fila.
    fila = admin.locator("form.nova-fila")
    await fila.get_by_label("Nome").fill("Vendas")
    await fila.get_by_label("Distribuição").select_option("automatica")
    await fila.get_by_role("button", name="Criar fila").click()
    await expect(admin.get_by_role("list", name="Filas")).to_contain_text("Vendas")
    await expect(admin.get_by_role("list", name="Filas")).to_contain_text("Automática")

    # A new atendente in it: the generated password is shown once, and works.
    usuario = admin.locator("form.novo-usuario")
    await usuario.get_by_label("Nome").fill("Dora Alves")
    await usuario.get_by_label("E-mail").fill("dora@demo.local")
    await usuario.get_by_label("Fila").select_option(label="Vendas")
    await usuario.get_by_role("button", name="Criar usuário").click()
    senha = admin.locator(".senha-gerada")
    await expect(senha).to_contain_text("dora@demo.local")
    texto = await senha.text_content()
    gerada = (texto or "").split(": ", 1)[1].split(" ", 1)[0]
    login = await produto.http.post("/auth/login", json={"email": "dora@demo.local", "senha": gerada})
    assert login.status_code == 200, login.text

    # A channel whose new tickets go to Vendas.
    canal = admin.locator("form.novo-canal")
    await canal.get_by_label("Nome").fill("Telefone da loja")
    await canal.get_by_label("Tipo").select_option("telefone")
    await canal.get_by_label("Fila dos tickets novos").select_option(label="Vendas")
    await canal.get_by_role("button", name="Criar canal").click()
    await expect(admin.get_by_role("list", name="Canais")).to_contain_text("Telefone da loja")

    # A refusal is shown with the server's reason: the e-mail is in use.
    await usuario.get_by_label("Nome").fill("Outra Ana")
    await usuario.get_by_label("E-mail").fill("ana@demo.local")
    await usuario.get_by_role("button", name="Criar usuário").click()
    await expect(admin.locator(".erro")).to_contain_text("E-mail já cadastrado")

    # Deactivating Dora: she can no longer log in.
    item = admin.locator('li[data-usuario="dora@demo.local"]')
    await item.get_by_role("button", name="Desativar").click()
    await expect(item.get_by_role("button", name="Ativar")).to_be_visible()
    login = await produto.http.post("/auth/login", json={"email": "dora@demo.local", "senha": gerada})
    assert login.status_code == 401


async def test_gestor_nao_ve_canais_nem_cria_admin(produto: Produto, paginas: Paginas) -> None:
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "gestor@demo.local")
    await pagina.get_by_role("button", name="Administração").click()
    admin = pagina.locator(".admin")
    await expect(admin.get_by_role("list", name="Usuários")).to_contain_text("bruno@demo.local")
    await expect(admin.get_by_role("list", name="Canais")).to_have_count(0)
    papeis = await admin.locator("form.novo-usuario select[name=role] option").all_text_contents()
    assert "Administrador" not in papeis and "Atendente" in papeis


async def test_atendente_sem_administracao(produto: Produto, paginas: Paginas) -> None:
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "ana@demo.local")
    await expect(pagina.get_by_role("button", name="Administração")).to_have_count(0)


async def test_fila_com_cliente_canal_e_nao_lidas_do_servidor(produto: Produto, paginas: Paginas) -> None:
    r = produto.resumo
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "ana@demo.local")
    primeiro = pagina.locator(f'button[data-ticket="{r.tickets[0]}"]')
    # Who writes and over which channel; Ana has not read the customer's message (server's count).
    await expect(primeiro).to_contain_text("Maria Oliveira")
    await expect(primeiro).to_contain_text("WhatsApp")
    await expect(primeiro.locator(".nao-lidas")).to_have_text("1")
    segundo = pagina.locator(f'button[data-ticket="{r.tickets[1]}"]')
    await expect(segundo).to_contain_text("João Pereira")
    await expect(segundo.locator(".nao-lidas")).to_have_count(0)  # read, in the demo

    # Opening it reads it: the header says who and over which channel; after a reload (or on
    # another device) the count stays at zero, because the server keeps it.
    await primeiro.click()
    await expect(pagina.locator(".quem-escreve")).to_contain_text(
        "Maria Oliveira (+5511990000001) via WhatsApp"
    )
    await expect(primeiro.locator(".nao-lidas")).to_have_count(0)

    async def lido() -> bool:
        tickets = await produto.rest("GET", "/atendimento/tickets", "ana@demo.local")
        return {t["id"]: t["naoLidas"] for t in tickets}[r.tickets[0]] == 0

    for _ in range(100):
        if await lido():
            break
        await pagina.wait_for_timeout(50)
    assert await lido()
    outra = await paginas.nova()
    await entrar(outra, produto.url, "ana@demo.local")
    await expect(outra.locator(f'button[data-ticket="{r.tickets[0]}"]')).to_contain_text("Maria Oliveira")
    await expect(outra.locator(f'button[data-ticket="{r.tickets[0]}"] .nao-lidas')).to_have_count(0)
