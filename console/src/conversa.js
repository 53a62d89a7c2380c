// The open ticket: messages live, composer (Enter sends, Shift+Enter new line), typing both ways,
// assignment, valid status changes, and who else has it open (ticket:visualizando).
import { novaChave } from "./api.js";
import { h, hora, trocar } from "./dom.js";
import { ACOES_STATUS, ESTADO_SAIDA, PRIORIDADE, STATUS, TRANSICOES } from "./textos.js";

const DIGITANDO_VISIVEL_MS = 10_000; // longer than the sender's throttle, so it doesn't flicker

export class Conversa {
  constructor(app) {
    this.app = app;
    this.ticketId = null;
    this.mensagens = new Map();
    this.digitando = new Map(); // usuarioId → {nome, timer}
    this.titulo = h("h2", { id: "titulo-conversa", tabindex: "-1" }, "Nenhum ticket aberto");
    this.detalhes = h("p", { classe: "detalhes" });
    this.acoes = h("div", { classe: "acoes", role: "group", "aria-label": "Ações do ticket" });
    this.quem = h("p", { classe: "visualizando", "aria-live": "polite" });
    this.lista = h("ol", { classe: "mensagens", "aria-label": "Mensagens", "aria-live": "polite" });
    this.avisoDigitando = h("p", { classe: "digitando", "aria-live": "polite" });
    this.texto = h("textarea", { id: "resposta", rows: "2", placeholder: "Resposta (Enter envia, Shift+Enter nova linha)", "aria-label": "Resposta", maxlength: "10000" });
    this.botaoEnviar = h("button", { type: "submit", classe: "primario" }, "Enviar");
    this.form = h("form", { classe: "compositor" }, this.texto, this.botaoEnviar);
    this.voltar = h("button", { type: "button", classe: "voltar", onclick: () => this.app.fecharTicket() }, "← Fila");
    this.vazio = h("p", { classe: "vazio" }, "Escolha um ticket na fila para ver a conversa.");
    this.corpo = h("div", { classe: "corpo-conversa", hidden: true }, this.detalhes, this.acoes, this.quem, this.lista, this.avisoDigitando, this.form);
    this.el = h("section", { classe: "painel conversa", "aria-labelledby": "titulo-conversa" }, h("header", { classe: "topo-conversa" }, this.voltar, this.titulo), this.vazio, this.corpo);

    this.texto.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.enviar();
      }
    });
    this.texto.addEventListener("input", () => {
      if (this.ticketId && this.texto.value.trim()) this.app.conexao.digitando(this.ticketId);
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.enviar();
    });
  }

  abrir(ticketId) {
    this.ticketId = ticketId;
    this.mensagens.clear();
    this.limparDigitando();
    this.app.visualizando = [];
    this.texto.value = "";
    this.vazio.hidden = true;
    this.corpo.hidden = false;
    trocar(this.lista, h("li", { classe: "carregando" }, "Carregando mensagens…"));
    this.render();
    this.titulo.focus();
  }

  fechar() {
    this.ticketId = null;
    this.limparDigitando();
    this.vazio.hidden = false;
    this.corpo.hidden = true;
    this.titulo.textContent = "Nenhum ticket aberto";
  }

  // Messages from REST (a page load or a catch-up) merged with what arrived live: by id, in order.
  juntar(mensagens) {
    for (const m of mensagens) this.mensagens.set(m.id, m);
    this.renderMensagens();
  }

  chegou(mensagem) {
    if (mensagem.ticketId !== this.ticketId || this.mensagens.has(mensagem.id)) return;
    this.mensagens.set(mensagem.id, mensagem);
    const autor = mensagem.atendenteId ?? mensagem.remetenteId;
    if (this.digitando.has(autor)) this.pararDigitando(autor);
    this.renderMensagens();
  }

  // mensagem:status: the channel's report (or the relay giving up) on one of this ticket's messages.
  statusMudou(s) {
    const m = this.mensagens.get(s.id);
    if (s.ticketId !== this.ticketId || !m) return;
    this.mensagens.set(s.id, { ...m, status: s.status, erro: s.erro ?? null, externoId: s.externoId ?? m.externoId, entregaId: s.entregaId ?? m.entregaId });
    this.renderMensagens();
  }

  estadoSaida(m) {
    if (!m.status) return null;
    const motivo = m.status === "falhou" ? (m.erro?.descricao || "") : "";
    const texto = `${ESTADO_SAIDA[m.status] ?? m.status}${motivo ? `: ${motivo}` : ""}`;
    const selo = h("span", { classe: `estado-saida saida-${m.status}`, "data-estado": m.status, title: "Entrega pelo canal" }, texto);
    const gestao = ["gestor", "admin"].includes(this.app.eu.role);
    if (m.status !== "falhou" || !gestao) return selo;
    return [selo, " ", h("button", { type: "button", classe: "reenviar", "data-reenviar": m.id, onclick: () => this.reenviar(m) }, "Reenviar")];
  }

  async reenviar(m) {
    const ticket = this.app.tickets.get(this.ticketId);
    if (!ticket) return;
    try {
      await this.app.api.reenviarMensagem(ticket.canalId, m.id, m.entregaId);
      this.app.avisos.toast("Mensagem reenviada ao canal", "ok", 2500);
    } catch (e) {
      this.app.avisos.toast(`Não foi possível reenviar: ${e.message}`, "erro");
    }
  }

  alguemDigitando({ ticketId, usuarioId, usuarioNome }) {
    if (ticketId !== this.ticketId || usuarioId === this.app.eu.id) return;
    clearTimeout(this.digitando.get(usuarioId)?.timer);
    const timer = setTimeout(() => this.pararDigitando(usuarioId), DIGITANDO_VISIVEL_MS);
    this.digitando.set(usuarioId, { nome: usuarioNome, timer });
    this.renderDigitando();
  }

  pararDigitando(usuarioId) {
    clearTimeout(this.digitando.get(usuarioId)?.timer);
    this.digitando.delete(usuarioId);
    this.renderDigitando();
  }

  limparDigitando() {
    for (const { timer } of this.digitando.values()) clearTimeout(timer);
    this.digitando.clear();
    this.renderDigitando();
  }

  renderDigitando() {
    const nomes = [...this.digitando.values()].map((d) => d.nome);
    this.avisoDigitando.textContent = nomes.length === 0 ? "" : nomes.length === 1 ? `${nomes[0]} está digitando…` : `${nomes.join(", ")} estão digitando…`;
  }

  async enviar() {
    const conteudo = this.texto.value;
    if (!this.ticketId || !conteudo.trim() || this.botaoEnviar.disabled) return;
    const ticketId = this.ticketId;
    this.botaoEnviar.disabled = true;
    try {
      const mensagem = await this.app.api.enviar(ticketId, conteudo, novaChave());
      this.app.conexao.enviouMensagem(ticketId);
      if (this.ticketId === ticketId) {
        this.texto.value = "";
        this.chegou(mensagem);
      }
    } catch (e) {
      this.app.avisos.toast(`Mensagem não enviada: ${e.message}`, "erro");
    } finally {
      this.botaoEnviar.disabled = false;
      this.texto.focus();
    }
  }

  render() {
    const t = this.app.tickets.get(this.ticketId);
    if (!t) return;
    this.titulo.textContent = `Ticket #${t.numero} — ${t.assunto || "(sem assunto)"}`;
    const responsavel = t.atendenteId ? this.app.nomeDe(t.atendenteId) : "sem atendente";
    trocar(
      this.detalhes,
      t.cliente ? h("span", { classe: "quem-escreve" }, h("strong", {}, t.cliente.nome), ` (${t.cliente.contato})`, t.canal ? ` via ${t.canal.nome} · ${t.canal.tipo}` : "") : null,
      t.cliente ? h("br") : null,
      h("span", { classe: `selo status-${t.status}` }, STATUS[t.status] ?? t.status),
      ` Prioridade ${PRIORIDADE[t.prioridade] ?? t.prioridade} · Atendente: ${responsavel}`,
    );
    this.renderAcoes(t);
    this.renderVisualizando();
    const fechado = t.status === "fechado";
    this.texto.disabled = fechado;
    this.botaoEnviar.disabled = fechado;
    this.texto.placeholder = fechado ? "Ticket fechado: não aceita mensagens" : "Resposta (Enter envia, Shift+Enter nova linha)";
  }

  renderAcoes(t) {
    const eu = this.app.eu;
    const botoes = [];
    if (t.status !== "fechado") {
      if (eu.role === "atendente" && t.atendenteId !== eu.id) {
        botoes.push(h("button", { type: "button", classe: "primario", "data-acao": "assumir", onclick: () => this.atribuir(eu.id) }, "Atribuir a mim"));
      } else if (eu.role !== "atendente") {
        const escolha = h("select", { "aria-label": "Atribuir a", onchange: () => escolha.value && this.atribuir(escolha.value) }, h("option", { value: "" }, "Atribuir a…"), [...this.app.atendentes.values()].map((a) => h("option", { value: a.id, selected: a.id === t.atendenteId }, a.nome)));
        botoes.push(escolha);
      }
    }
    for (const destino of TRANSICOES[t.status] ?? []) {
      botoes.push(h("button", { type: "button", "data-status": destino, onclick: () => this.mudarStatus(destino) }, ACOES_STATUS[destino]));
    }
    trocar(this.acoes, botoes);
  }

  renderVisualizando() {
    const outros = this.app.visualizando.filter((u) => u.usuarioId !== this.app.eu.id);
    this.quem.textContent = outros.length ? `Também com este ticket aberto: ${outros.map((u) => u.usuarioNome).join(", ")}` : "";
  }

  renderMensagens() {
    const eu = this.app.eu.id;
    const ticket = this.app.tickets.get(this.ticketId);
    const ordenadas = [...this.mensagens.values()].sort((a, b) => (a.criadoEm < b.criadoEm ? -1 : a.criadoEm > b.criadoEm ? 1 : 0));
    const perto = this.lista.scrollHeight - this.lista.scrollTop - this.lista.clientHeight < 80;
    trocar(
      this.lista,
      ordenadas.length === 0 ? h("li", { classe: "vazio" }, "Nenhuma mensagem ainda.") : null,
      ordenadas.map((m) => {
        const minha = m.remetenteId === eu;
        const doCliente = ticket && m.remetenteId === ticket.clienteId;
        const autor = minha ? "Você" : doCliente ? "Cliente" : this.app.nomeDe(m.remetenteId);
        const saida = doCliente ? null : this.estadoSaida(m);
        return h("li", { classe: `mensagem ${minha ? "minha" : doCliente ? "cliente" : "equipe"}`, "data-mensagem": m.id }, h("span", { classe: "autor" }, autor, " · ", h("time", { datetime: m.criadoEm }, hora(m.criadoEm))), h("span", { classe: "conteudo" }, m.conteudo), saida ? h("span", { classe: "saida" }, saida) : null);
      }),
    );
    if (perto || ordenadas.length < 30) this.lista.scrollTop = this.lista.scrollHeight;
  }

  async atribuir(atendenteId) {
    const ticketId = this.ticketId;
    // One's own assignment is no news: ticket:atribuido may arrive before or after this answer.
    this.app.atribuindo.add(ticketId);
    try {
      this.app.receberTicket(await this.app.api.atribuir(ticketId, atendenteId));
    } catch (e) {
      this.app.avisos.toast(`Não foi possível atribuir: ${e.message}`, "erro");
    } finally {
      setTimeout(() => this.app.atribuindo.delete(ticketId), 3000);
    }
  }

  async mudarStatus(status) {
    try {
      this.app.receberTicket(await this.app.api.mudarStatus(this.ticketId, status));
      this.app.avisos.toast(`Status: ${STATUS[status]}`, "ok", 2500);
    } catch (e) {
      this.app.avisos.toast(`Não foi possível mudar o status: ${e.message}`, "erro");
    }
  }
}
