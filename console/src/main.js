// The agent console: login, then the queue, the open conversation and the team, all live over one
// socket to /atendimento. docs/console.md describes each screen and how it uses the gateway.
import { Api } from "./api.js";
import { Avisos, Banner } from "./avisos.js";
import { Conexao } from "./conexao.js";
import { Administracao } from "./admin.js";
import { Conversa } from "./conversa.js";
import { h } from "./dom.js";
import { Equipe, ficarDisponivel, seletorStatus } from "./equipe.js";
import { Fila } from "./fila.js";
import { telaLogin } from "./login.js";
import { Sessao } from "./sessao.js";

// How far back a catch-up asks (atualizadoDesde), before the newest change this console has seen:
// a write stamped before that one may have committed after it.
const MARGEM_CATCH_UP_MS = 60_000;

class Console {
  constructor(raiz, sessao, api) {
    this.raiz = raiz;
    this.sessao = sessao;
    this.api = api;
    this.eu = sessao.usuario;
    this.tickets = new Map();
    this.naoLidas = new Map();
    this.atendentes = new Map();
    this.versaoPresenca = null; // of the last atendente:presenca batch (null: none yet, or re-reading)
    this.aberto = null;
    this.visualizando = [];
    this.atribuindo = new Set(); // tickets this console is assigning right now
    this.maisRecente = null; // the newest atualizadoEm seen (server clock)
  }

  iniciar() {
    this.avisos = new Avisos(document.body);
    this.banner = new Banner();
    this.fila = new Fila(this);
    this.conversa = new Conversa(this);
    this.equipe = new Equipe(this);
    this.conexao = new Conexao({
      api: this.api,
      sessao: this.sessao,
      aoEstado: (estado, detalhe) => this.banner.conexao(estado, detalhe),
      aoReconectar: (info) => this.sincronizar(info),
      aoSessaoPerdida: (motivo) => sair(motivo),
    });
    this.montar();
    this.ouvir();
    this.conexao.iniciar();
  }

  montar() {
    const notificar = typeof Notification !== "undefined" && Notification.permission === "default"
      ? h("button", { type: "button", onclick: async (e) => { await Notification.requestPermission(); e.target.remove(); } }, "Ativar notificações")
      : null;
    const topo = h(
      "header",
      { classe: "topo" },
      h("h1", {}, "Atendimento"),
      h("span", { classe: "eu" }, this.eu.nome),
      this.seletor = this.eu.role === "atendente" ? seletorStatus(this) : null,
      this.seletor ? null : h("span", { classe: "papel" }, this.eu.role),
      notificar,
      Administracao.permitida(this.eu.role)
        ? h("button", { type: "button", classe: "abrir-admin", onclick: () => this.administracao.alternar() }, "Administração")
        : null,
      h("button", { type: "button", onclick: () => sair() }, "Sair"),
    );
    this.principal = h("main", { classe: "principal" }, this.fila.el, this.conversa.el, this.equipe.el);
    this.administracao = new Administracao(this);
    this.raiz.replaceChildren(topo, this.banner.el, this.banner.redis, this.administracao.el, this.principal);
    this.fila.render();
  }

  ouvir() {
    const c = this.conexao;
    c.on("ticket:novo", (t) => {
      this.receberTicket(t);
      this.avisos.toast(`Novo ticket #${t.numero}${t.assunto ? `: ${t.assunto}` : ""}`, "info", 4000);
    });
    c.on("ticket:atualizado", (t) => this.receberTicket(t));
    c.on("ticket:status", (t) => this.receberTicket(t));
    c.on("ticket:atribuido", (t) => {
      const antes = this.tickets.get(t.id);
      this.receberTicket(t);
      if (t.atendenteId === this.eu.id && antes?.atendenteId !== this.eu.id && !this.atribuindo.has(t.id)) {
        this.avisos.toast(`Ticket #${t.numero} atribuído a você`, "ok");
        this.avisos.bip();
        this.avisos.notificarSistema("Ticket atribuído a você", `#${t.numero} ${t.assunto ?? ""}`);
      }
    });
    c.on("mensagem:nova", (m) => this.receberMensagem(m));
    c.on("mensagem:nao-atribuida", ({ mensagem, ticket }) => {
      this.receberTicket(ticket);
      this.receberMensagem(mensagem);
    });
    c.on("mensagem:digitando", (d) => this.conversa.alguemDigitando(d));
    c.on("mensagem:status", (s) => this.conversa.statusMudou(s));
    // Read on another device (or tab) of mine: the server's count wins.
    c.on("ticket:lido", ({ ticketId, naoLidas }) => {
      if (ticketId === this.aberto) return;
      this.naoLidas.set(ticketId, naoLidas);
      this.fila.render();
    });
    c.on("ticket:visualizando", ({ ticketId, usuarios }) => {
      if (ticketId !== this.aberto) return;
      this.visualizando = usuarios;
      this.conversa.renderVisualizando();
    });
    // Batched presence (we connect with presenca: "lote"): the whole team, then what changed.
    c.on("atendente:presenca", (lote) => this.receberPresenca(lote));
    c.on("notificacao", (n) => this.avisos.toast(n.mensagem || n.tipo, n.tipo === "erro" ? "erro" : "info", 8000));
    c.on("sistema:estado", (e) => this.banner.sistema(e?.redis));
  }

  // First connect: load everything. A reconnect the server recovered: it replayed what we missed, so
  // only the ticket room is re-announced (cheap and idempotent; keeps ticket:visualizando right).
  // Any other reconnect: catch up over REST before the banner says "back".
  async sincronizar({ primeira, recuperado }) {
    if (recuperado) {
      if (this.aberto) await this.conexao.emitir("ticket:entrar", { ticketId: this.aberto });
      return;
    }
    if (primeira && this.seletor) await ficarDisponivel(this, this.seletor);
    const desde = !primeira && this.maisRecente ? new Date(Date.parse(this.maisRecente) - MARGEM_CATCH_UP_MS).toISOString() : null;
    const [tickets, atendentes] = await Promise.all([this.api.tickets(desde ? { atualizadoDesde: desde } : {}), this.api.atendentes()]);
    for (const t of tickets) this.receberTicket(t, false);
    for (const a of atendentes) this.atualizarAtendente(a.id, a, false);
    if (this.aberto) {
      this.conversa.render();
      await this.entrarNoTicket(this.aberto);
    }
    this.fila.render();
    this.equipe.render();
  }

  receberTicket(t, render = true) {
    const antes = this.tickets.get(t.id);
    // Events and REST answers can cross: never let an older copy replace a newer one.
    if (antes && antes.atualizadoEm > t.atualizadoEm) return;
    const { ticketId: _ignorado, naoLidas, ...ticket } = t;
    // Events carry the seed's ticket; REST answers add who the customer is and the channel: keep them.
    ticket.cliente ??= antes?.cliente;
    ticket.canal ??= antes?.canal;
    this.tickets.set(t.id, ticket);
    // REST answers carry my unread count, the same on every device; events leave the count as it is.
    if (typeof naoLidas === "number") this.naoLidas.set(t.id, t.id === this.aberto ? 0 : naoLidas);
    if (!this.maisRecente || t.atualizadoEm > this.maisRecente) this.maisRecente = t.atualizadoEm;
    if (!render) return;
    this.fila.render();
    if (t.id === this.aberto) this.conversa.render();
  }

  receberMensagem(m) {
    if (m.ticketId === this.aberto) {
      this.conversa.chegou(m);
      if (m.remetenteId !== this.eu.id) this.marcarLida(m.ticketId, m.id);
      return;
    }
    if (m.remetenteId === this.eu.id) return;
    // Counted once per message id even when both mensagem:nova and mensagem:nao-atribuida carry it.
    this.vistas ??= new Set();
    if (this.vistas.has(m.id)) return;
    this.vistas.add(m.id);
    this.naoLidas.set(m.ticketId, (this.naoLidas.get(m.ticketId) ?? 0) + 1);
    this.fila.render();
  }

  // One atendente:presenca: the whole team (completo) or what changed since the previous batch. A
  // batch whose versao is not the next one means we missed one: the team is read again over REST.
  receberPresenca({ versao, completo, atendentes }) {
    const lacuna = !completo && this.versaoPresenca !== null && versao !== this.versaoPresenca + 1;
    this.versaoPresenca = versao;
    for (const a of atendentes) {
      const mudancas = { nome: a.atendenteNome, online: a.online };
      if (a.status) mudancas.statusAtendimento = a.status;
      this.atualizarAtendente(a.atendenteId, mudancas, false);
    }
    this.equipe.render();
    this.fila.render();
    if (lacuna) {
      this.versaoPresenca = null;
      this.api.atendentes().then((lista) => {
        for (const a of lista) this.atualizarAtendente(a.id, a, false);
        this.equipe.render();
      }, () => {});
    }
  }

  atualizarAtendente(id, mudancas, render = true) {
    const atual = this.atendentes.get(id) ?? { id, nome: mudancas.nome ?? "", online: false, statusAtendimento: null };
    this.atendentes.set(id, { ...atual, ...mudancas, id });
    if (render) {
      this.equipe.render();
      this.fila.render();
    }
  }

  nomeDe(usuarioId) {
    if (usuarioId === this.eu.id) return this.eu.nome;
    return this.atendentes.get(usuarioId)?.nome ?? "Equipe";
  }

  async abrir(ticketId) {
    if (this.aberto === ticketId) return;
    const anterior = this.aberto;
    this.aberto = ticketId;
    if (anterior) this.conexao.emitir("ticket:sair", { ticketId: anterior });
    this.naoLidas.delete(ticketId);
    this.principal.classList.add("com-ticket");
    this.conversa.abrir(ticketId);
    this.fila.render();
    try {
      await this.entrarNoTicket(ticketId);
    } catch (e) {
      this.avisos.toast(`Não foi possível carregar o ticket: ${e.message}`, "erro");
    }
  }

  // Join the room first, then read the history: a message stored in between arrives live or in the
  // list, and the merge by id shows it once.
  async entrarNoTicket(ticketId) {
    const resposta = await this.conexao.emitir("ticket:entrar", { ticketId });
    if (resposta && !resposta.success && resposta.code !== "DESCONECTADO") {
      this.avisos.toast(`Ticket indisponível: ${resposta.error}`, "erro");
    }
    const mensagens = await this.api.mensagens(ticketId);
    if (this.aberto === ticketId) this.conversa.juntar(mensagens);
    if (mensagens.length) this.marcarLida(ticketId, mensagens[mensagens.length - 1].id);
  }

  // Tell the server what was read (best effort: a failure only leaves the count for later).
  marcarLida(ticketId, mensagemId) {
    this.api.marcarLida(ticketId, mensagemId).catch(() => {});
  }

  fecharTicket() {
    if (this.aberto) this.conexao.emitir("ticket:sair", { ticketId: this.aberto });
    this.aberto = null;
    this.visualizando = [];
    this.principal.classList.remove("com-ticket");
    this.conversa.fechar();
    this.fila.render();
  }

  fechar() {
    this.conexao?.fechar();
    this.avisos?.pilha.remove();
  }
}

const raiz = document.getElementById("app");
const api = new Api();
let atual = null;

function entrar(sessao) {
  api.token = sessao.token;
  atual = new Console(raiz, sessao, api);
  atual.iniciar();
}

function sair(motivo) {
  atual?.fechar();
  atual = null;
  api.token = null;
  Sessao.apagar();
  telaLogin(raiz, { api, aviso: motivo, aoEntrar: (resposta) => entrar(Sessao.doLogin(resposta)) });
}

api.aoNaoAutorizado = (erro) => {
  if (erro.code === "TOKEN_EXPIRADO" || erro.code === "TOKEN_INVALIDO") sair("Sua sessão terminou. Entre de novo.");
};

const sessao = Sessao.carregar();
if (sessao) entrar(sessao);
else sair();
