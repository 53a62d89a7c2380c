"""The contract's demo data: two tenants, so anyone (and every test) can try the product at once.

``Empresa Demo``: admin@, gestor@, ana@ and bruno@ (atendentes), vendas@ (vendedor), integracao@
(integracao, bound to the WhatsApp and e-mail canais, not the web chat), two filas (manual
distribution: the demo's tickets stay where the script puts them), three canais, three clientes,
four tickets with messages; Ana serves both filas, Bruno Suporte; Ana has read her tickets'
messages. ``Outra Empresa``: carla@outra.local (atendente), one fila, canal, cliente and ticket —
there to prove isolation.
Every password is ``demo-senha``. Refuses a database that already holds data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert

from atendimento.config import Settings
from atendimento.domain.entidades import ROLE_ATENDENTE, agora, novo_id
from atendimento.domain.eventos import PublicadorNulo
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import Senhas, senhas_padrao
from atendimento.storage.banco import Storage
from atendimento.storage.migracoes import upgrade
from atendimento.storage.modelos import (
    Canal,
    Cliente,
    ContadorTicket,
    Empresa,
    Fila,
    Leitura,
    Usuario,
    UsuarioFila,
)

SENHA_DEMO = "demo-senha"


class DemoRecusada(RuntimeError):
    """The database is not empty; the demo never mixes with real data."""


@dataclass
class ResumoDemo:
    empresa_id: str
    outra_empresa_id: str
    usuarios: dict[str, str] = field(default_factory=dict)  # email → id (both tenants)
    filas: dict[str, str] = field(default_factory=dict)  # nome → id (Empresa Demo)
    canais: dict[str, str] = field(default_factory=dict)  # tipo → id (Empresa Demo)
    clientes: dict[str, str] = field(default_factory=dict)  # nome → id (Empresa Demo)
    tickets: list[str] = field(default_factory=list)  # Empresa Demo, by numero
    outra_fila_id: str = ""
    outra_canal_id: str = ""
    outra_cliente_id: str = ""
    outra_ticket_id: str = ""
    senha: str = SENHA_DEMO

    def id_de(self, email: str) -> str:
        return self.usuarios[email]


USUARIOS_DEMO: list[tuple[str, str, str]] = [  # email, nome, role
    ("admin@demo.local", "Administrador Demo", "admin"),
    ("gestor@demo.local", "Gestor Demo", "gestor"),
    ("ana@demo.local", "Ana Souza", "atendente"),
    ("bruno@demo.local", "Bruno Lima", "atendente"),
    ("vendas@demo.local", "Vendas Demo", "vendedor"),
    ("integracao@demo.local", "Integração Demo", "integracao"),
]
USUARIOS_OUTRA: list[tuple[str, str, str]] = [("carla@outra.local", "Carla Mendes", "atendente")]


async def _criar_empresa(
    storage: Storage,
    resumo: ResumoDemo,
    empresa_id: str,
    nome: str,
    usuarios: list[tuple[str, str, str]],
    senha_hash: str,
) -> None:
    momento = agora()
    async with storage.transacao(empresa_id) as conn:
        await conn.execute(insert(Empresa).values(id=empresa_id, nome=nome, criado_em=momento))
        await conn.execute(insert(ContadorTicket).values(empresa_id=empresa_id, ultimo_numero=0))
        for email, nome_usuario, role in usuarios:
            usuario_id = novo_id()
            resumo.usuarios[email] = usuario_id
            await conn.execute(
                insert(Usuario).values(
                    id=usuario_id,
                    empresa_id=empresa_id,
                    nome=nome_usuario,
                    email=email,
                    senha_hash=senha_hash,
                    role=role,
                    status_atendimento="offline" if role == "atendente" else None,
                    ativo=True,
                    criado_em=momento,
                )
            )


async def _cadastros(
    storage: Storage,
    empresa_id: str,
    filas: list[str],
    canais: list[tuple[str, str, str]],  # tipo, nome, fila
    clientes: list[tuple[str, str]],  # nome, contato
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    ids_filas = {nome: novo_id() for nome in filas}
    ids_canais = {tipo: novo_id() for tipo, _, _ in canais}
    ids_clientes = {nome: novo_id() for nome, _ in clientes}
    async with storage.transacao(empresa_id) as conn:
        for nome, fila_id in ids_filas.items():
            await conn.execute(insert(Fila).values(id=fila_id, empresa_id=empresa_id, nome=nome))
        for tipo, nome, fila in canais:
            await conn.execute(
                insert(Canal).values(
                    id=ids_canais[tipo],
                    empresa_id=empresa_id,
                    nome=nome,
                    tipo=tipo,
                    fila_padrao_id=ids_filas[fila],
                    ativo=True,
                )
            )
        for nome, contato in clientes:
            await conn.execute(
                insert(Cliente).values(
                    id=ids_clientes[nome],
                    empresa_id=empresa_id,
                    nome=nome,
                    contato=contato,
                    criado_em=agora(),
                )
            )
    return ids_filas, ids_canais, ids_clientes


async def _carregar(storage: Storage, senhas: Senhas) -> ResumoDemo:
    if not await storage.banco_vazio():
        raise DemoRecusada("o banco já tem dados: o demo só é carregado num banco vazio")
    senha_hash = await senhas.hash_async(SENHA_DEMO)  # once: argon2 is slow on purpose
    resumo = ResumoDemo(empresa_id=novo_id(), outra_empresa_id=novo_id())
    e, o = resumo.empresa_id, resumo.outra_empresa_id
    await _criar_empresa(storage, resumo, e, "Empresa Demo", USUARIOS_DEMO, senha_hash)
    await _criar_empresa(storage, resumo, o, "Outra Empresa", USUARIOS_OUTRA, senha_hash)

    resumo.filas, resumo.canais, resumo.clientes = await _cadastros(
        storage,
        e,
        ["Suporte", "Financeiro"],
        [
            ("whatsapp", "WhatsApp", "Suporte"),
            ("email", "E-mail", "Financeiro"),
            ("webchat", "Chat do site", "Suporte"),
        ],
        [
            ("Maria Oliveira", "+5511990000001"),
            ("João Pereira", "joao.pereira@example.com"),
            ("Pedro Santos", "webchat:pedro-santos"),
        ],
    )
    filas_o, canais_o, clientes_o = await _cadastros(
        storage,
        o,
        ["Atendimento"],
        [("webchat", "Chat do site", "Atendimento")],
        [("Cliente da Outra", "webchat:cliente-outra")],
    )
    await _filas_atendidas(
        storage,
        e,
        [("ana@demo.local", "Suporte"), ("ana@demo.local", "Financeiro"), ("bruno@demo.local", "Suporte")],
        resumo,
        resumo.filas,
    )
    await _filas_atendidas(storage, o, [("carla@outra.local", "Atendimento")], resumo, filas_o)
    resumo.outra_fila_id = filas_o["Atendimento"]
    resumo.outra_canal_id = canais_o["webchat"]
    resumo.outra_cliente_id = clientes_o["Cliente da Outra"]

    servico = ServicoAtendimento(storage, PublicadorNulo(), senhas=senhas)
    ana, bruno = resumo.usuarios["ana@demo.local"], resumo.usuarios["bruno@demo.local"]
    # The integration delivers for every channel but the web chat (the site's chat is the console's
    # own widget, not this integration's): posting for the web chat shows the 403 of a foreign channel.
    await servico.alterar_usuario(
        e,
        resumo.usuarios["integracao@demo.local"],
        canal_ids=frozenset(c for tipo, c in resumo.canais.items() if tipo != "webchat"),
    )

    # (cliente, canal, fila, prioridade, assunto, atendente, mensagem do cliente, resposta, status final)
    roteiro: list[tuple[str, str, str, str, str, str | None, str, str | None, str]] = [
        ("Maria Oliveira", "whatsapp", "Suporte", "alta", "Pedido não chegou", None,
         "Olá, meu pedido 1234 ainda não chegou.", None, "aberto"),
        ("João Pereira", "email", "Financeiro", "media", "Segunda via do boleto", ana,
         "Preciso da segunda via do boleto de novembro.", "Olá João, segue a segunda via em anexo.",
         "em_atendimento"),
        ("Pedro Santos", "webchat", "Suporte", "baixa", "Dúvida sobre o produto", bruno,
         "O produto funciona com 110V?", "Funciona com 110V e 220V. Posso ajudar em algo mais?",
         "aguardando_cliente"),
        ("Maria Oliveira", "email", "Financeiro", "media", "Reembolso", ana,
         "Gostaria de saber do meu reembolso.", "Seu reembolso foi processado hoje.", "resolvido"),
    ]  # fmt: skip
    contatos = {"Maria Oliveira": "+5511990000001", "João Pereira": "joao.pereira@example.com",
                "Pedro Santos": "webchat:pedro-santos"}  # fmt: skip
    for cliente, canal, fila, prioridade, assunto, atendente, pergunta, resposta, status in roteiro:
        ticket = await servico.criar_ticket(
            e,
            cliente_id=resumo.clientes[cliente],
            canal_id=resumo.canais[canal],
            fila_id=resumo.filas[fila],
            prioridade=prioridade,
            assunto=assunto,
            atendente_id=atendente,
        )
        resumo.tickets.append(ticket.id)
        await servico.receber_mensagem_canal(
            e, resumo.canais[canal], contato=contatos[cliente], conteudo=pergunta
        )
        if resposta is not None and atendente is not None:
            await servico.enviar_mensagem(
                e, ticket.id, remetente_id=atendente, role=ROLE_ATENDENTE, conteudo=resposta
            )
        if status != "aberto":
            await servico.mudar_status(e, ticket.id, status)

    ticket_o, _, _ = await servico.receber_mensagem_canal(
        o, resumo.outra_canal_id, contato="webchat:cliente-outra", conteudo="Oi, preciso de ajuda."
    )
    resumo.outra_ticket_id = ticket_o.id
    # Read state: Ana has read both messages of her open ticket; Carla her tenant's one message.
    await _leitura(storage, e, ana, resumo.tickets[1], 2)
    await _leitura(storage, o, resumo.usuarios["carla@outra.local"], ticket_o.id, 1)
    return resumo


async def _filas_atendidas(
    storage: Storage, empresa_id: str, pares: list[tuple[str, str]], resumo: ResumoDemo, filas: dict[str, str]
) -> None:
    async with storage.transacao(empresa_id) as conn:
        for email, fila in pares:
            valores = {"empresa_id": empresa_id, "usuario_id": resumo.usuarios[email], "fila_id": filas[fila]}
            await conn.execute(insert(UsuarioFila).values(**valores))


async def _leitura(storage: Storage, empresa_id: str, usuario_id: str, ticket_id: str, ordem: int) -> None:
    async with storage.transacao(empresa_id) as conn:
        valores = {"usuario_id": usuario_id, "ticket_id": ticket_id, "ordem": ordem, "atualizado_em": agora()}
        await conn.execute(insert(Leitura).values(empresa_id=empresa_id, **valores))


async def carregar_demo(alvo: Settings | Storage, *, senhas: Senhas | None = None) -> ResumoDemo:
    """Fill an empty database with the demo data and say what was made.

    With ``Settings``: migrates first, then loads as the owner (admin URL). With a ``Storage``:
    loads through it (already migrated). Raises ``DemoRecusada`` when the database holds data.
    ``senhas`` only changes how the demo password is hashed (tests pass cheap parameters)."""
    senhas = senhas or senhas_padrao()
    if isinstance(alvo, Storage):
        return await _carregar(alvo, senhas)
    await upgrade(alvo)
    storage = Storage.from_settings(alvo, admin=True)
    try:
        return await _carregar(storage, senhas)
    finally:
        await storage.close()
