// The team: the tenant's atendentes, online/offline and status, live (atendente:online/offline/status).
import { h, trocar } from "./dom.js";
import { STATUS_ATENDENTE } from "./textos.js";

export class Equipe {
  constructor(app) {
    this.app = app;
    this.lista = h("ul", { classe: "lista-equipe", "aria-label": "Atendentes" });
    this.el = h("section", { classe: "painel equipe", "aria-labelledby": "titulo-equipe" }, h("h2", { id: "titulo-equipe" }, "Equipe"), this.lista);
  }

  render() {
    const atendentes = [...this.app.atendentes.values()].sort((a, b) => Number(b.online) - Number(a.online) || a.nome.localeCompare(b.nome, "pt-BR"));
    trocar(
      this.lista,
      atendentes.map((a) => {
        // Connected: the status the atendente chose ("offline" while connected reads "Invisível").
        const estado = a.online ? (STATUS_ATENDENTE[a.statusAtendimento] ? a.statusAtendimento : "online") : "desconectado";
        const rotulo = a.online ? STATUS_ATENDENTE[estado] : "Offline";
        return h("li", { classe: `atendente estado-${estado}`, "data-atendente": a.id }, h("span", { classe: "ponto", "aria-hidden": "true" }), h("span", { classe: "nome" }, a.nome, a.id === this.app.eu.id ? " (você)" : ""), h("span", { classe: "estado" }, rotulo));
      }),
    );
  }
}

// My own status (atendentes only): atendente:status, with the ack deciding what the selector shows.
// Opening the console makes an "offline" atendente available (a chosen ocupado/ausente is kept).
export async function ficarDisponivel(app, select) {
  if (app.eu.statusAtendimento && app.eu.statusAtendimento !== "offline") return;
  const resposta = await app.conexao.emitir("atendente:status", { status: "online" });
  if (resposta?.success) {
    app.eu = { ...app.eu, statusAtendimento: "online" };
    select.value = "online";
    select.dispatchEvent(new Event("sincronizado"));
  }
}

export function seletorStatus(app) {
  const select = h("select", { id: "meu-status", "aria-label": "Meu status" }, Object.entries(STATUS_ATENDENTE).map(([v, r]) => h("option", { value: v }, r)));
  select.value = app.eu.statusAtendimento && STATUS_ATENDENTE[app.eu.statusAtendimento] ? app.eu.statusAtendimento : "online";
  let atual = select.value;
  select.addEventListener("sincronizado", () => {
    atual = select.value;
  });
  select.addEventListener("change", async () => {
    const pedido = select.value;
    const resposta = await app.conexao.emitir("atendente:status", { status: pedido });
    if (resposta?.success) {
      atual = pedido;
      app.atualizarAtendente(app.eu.id, { statusAtendimento: pedido });
    } else {
      select.value = atual;
      app.avisos.toast(`Status não alterado: ${resposta?.error ?? "erro"}`, "erro");
    }
  });
  return select;
}
