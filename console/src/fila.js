// The queue: the tenant's tickets, live, with filters (mine / unassigned / by status) and unread counts.
import { h, hora, trocar } from "./dom.js";
import { PRIORIDADE, STATUS } from "./textos.js";

export class Fila {
  constructor(app) {
    this.app = app;
    this.filtroQuem = "todos";
    this.filtroStatus = "ativos";
    this.botoesQuem = {};
    const grupo = h("div", { classe: "filtros-quem", role: "group", "aria-label": "Filtrar tickets" });
    for (const [valor, rotulo] of [["todos", "Todos"], ["meus", "Meus"], ["sem", "Sem atendente"]]) {
      const botao = h("button", { type: "button", "aria-pressed": valor === this.filtroQuem ? "true" : "false", "data-filtro": valor, onclick: () => this.filtrar(valor) }, rotulo);
      this.botoesQuem[valor] = botao;
      grupo.append(botao);
    }
    this.status = h(
      "select",
      { id: "filtro-status", "aria-label": "Status", onchange: () => { this.filtroStatus = this.status.value; this.render(); } },
      h("option", { value: "ativos" }, "Em andamento (não fechados)"),
      h("option", { value: "" }, "Todos os status"),
      Object.entries(STATUS).map(([v, r]) => h("option", { value: v }, r)),
    );
    this.lista = h("ul", { classe: "lista-tickets", "aria-label": "Tickets" });
    this.vazio = h("p", { classe: "vazio", hidden: true }, "Nenhum ticket neste filtro.");
    this.el = h("section", { classe: "painel fila", "aria-labelledby": "titulo-fila" }, h("h2", { id: "titulo-fila" }, "Fila"), grupo, this.status, this.vazio, this.lista);
  }

  filtrar(valor) {
    this.filtroQuem = valor;
    for (const [v, b] of Object.entries(this.botoesQuem)) b.setAttribute("aria-pressed", v === valor ? "true" : "false");
    this.render();
  }

  visiveis() {
    const eu = this.app.eu.id;
    return [...this.app.tickets.values()]
      .filter((t) => this.filtroQuem !== "meus" || t.atendenteId === eu)
      .filter((t) => this.filtroQuem !== "sem" || !t.atendenteId)
      .filter((t) => (this.filtroStatus === "ativos" ? t.status !== "fechado" : !this.filtroStatus || t.status === this.filtroStatus))
      .sort((a, b) => (a.atualizadoEm < b.atualizadoEm ? 1 : a.atualizadoEm > b.atualizadoEm ? -1 : 0));
  }

  render() {
    const eu = this.app.eu.id;
    const todos = [...this.app.tickets.values()].filter((t) => t.status !== "fechado");
    const contagem = { todos: todos.length, meus: todos.filter((t) => t.atendenteId === eu).length, sem: todos.filter((t) => !t.atendenteId).length };
    for (const [v, b] of Object.entries(this.botoesQuem)) b.dataset.contagem = String(contagem[v]);
    const itens = this.visiveis().map((t) => this.item(t));
    this.vazio.hidden = itens.length > 0;
    trocar(this.lista, itens);
  }

  item(t) {
    const naoLidas = this.app.naoLidas.get(t.id) ?? 0;
    const aberto = this.app.aberto === t.id;
    const responsavel = t.atendenteId ? this.app.nomeDe(t.atendenteId) : "Sem atendente";
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          classe: `ticket${aberto ? " aberto" : ""}${naoLidas ? " nao-lido" : ""}`,
          "data-ticket": t.id,
          "aria-current": aberto ? "true" : false,
          onclick: () => this.app.abrir(t.id),
        },
        h("span", { classe: "linha" }, h("strong", {}, `#${t.numero}`), h("span", { classe: `selo status-${t.status}` }, STATUS[t.status] ?? t.status), naoLidas ? h("span", { classe: "nao-lidas", "aria-label": `${naoLidas} não lidas` }, String(naoLidas)) : null),
        h("span", { classe: "assunto" }, t.assunto || "(sem assunto)"),
        t.cliente ? h("span", { classe: "cliente" }, t.cliente.nome, t.canal ? ` · ${t.canal.nome}` : "") : null,
        h("span", { classe: "meta" }, h("span", { classe: `prioridade prioridade-${t.prioridade}` }, PRIORIDADE[t.prioridade] ?? t.prioridade), " · ", responsavel, " · ", hora(t.atualizadoEm)),
      ),
    );
  }
}
