"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with every request to an
address other than 127.0.0.1 aborted (the test proves the page needs no CDN)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from apoio_navegador import ARGS_CHROMIUM, CHROMIUM
from playwright.async_api import Page, Route, async_playwright


@contextlib.asynccontextmanager
async def pagina_local(bloqueadas: list[str]) -> AsyncIterator[Page]:
    """A page whose requests to anything but 127.0.0.1 are aborted and listed in ``bloqueadas``."""
    async with async_playwright() as pw:
        navegador = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        try:
            contexto = await navegador.new_context(viewport={"width": 1400, "height": 900})

            async def filtrar(route: Route) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    await route.continue_()
                else:
                    bloqueadas.append(route.request.url)
                    await route.abort()

            await contexto.route("**/*", filtrar)
            yield await contexto.new_page()
        finally:
            await navegador.close()
