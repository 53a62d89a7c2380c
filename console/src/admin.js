// Administration: the company's users, filas and canais, for its admin (a gestor sees users and
// filas; the server refuses the rest anyway). Over the REST routes of provisioning; a generated
// password is shown here once, as the server hands it over once. Each channel shows its outbound
// webhook (URL, active or disabled and why, the last delivery that failed), as the API offers it.
import { h, hora, trocar } from "./dom.js";

const PAPEIS = { admin: "Administrador", gestor: "Gestor", supervisor: "Supervisor", atendente: "Atendente", integracao: "Integração" };
const TIPOS = { whatsapp: "WhatsApp", email: "E-mail", webchat: "Chat do site", telefone: "Telefone", outro: "Outro" };
const DISTRIBUICAO = { manual: "Manual", automatica: "Automática" };

function opcoes(mapa, excluir = []) {
  return Object.entries(mapa).filter(([v]) => !excluir.includes(v)).map(([v, r]) => h("option", { value: v }, r));
}

function campo(rotulo, controle) {
  return h("label", {}, rotulo, " ", controle);
}

export class Administracao {
  static permitida(role) {
    return role === "admin" || role === "gestor";
  }

  constructor(app) {
    this.app = app;
    this.admin = app.eu.role === "admin";
    this.usuarios = h("ul", { "aria-label": "Usuários" });
    this.filas = h("ul", { "aria-label": "Filas" });
    this.canais = h("ul", { "aria-label": "Canais" });
    this.erro = h("p", { classe: "erro", role: "alert" });
    this.senha = h("p", { classe: "senha-gerada", "aria-live": "polite" });
    this.listaFilas = [];
    this.el = h(
      "div",
      { classe: "admin", hidden: true, "aria-label": "Administração" },
      h("section", {}, h("h2", {}, "Usuários"), this.formUsuario(), this.senha, this.usuarios),
      h("section", {}, h("h2", {}, "Filas"), this.formFila(), this.filas),
      this.admin ? h("section", {}, h("h2", {}, "Canais"), this.formCanal(), this.canais) : null,
      this.erro,
    );
  }

  async alternar() {
    this.el.hidden = !this.el.hidden;
    if (!this.el.hidden) await this.carregar();
  }

  async tentar(acao) {
    this.erro.textContent = "";
    try {
      await acao();
    } catch (e) {
      this.erro.textContent = e.message;
    }
  }

  async carregar() {
    await this.tentar(async () => {
      const [usuarios, filas, canais] = await Promise.all([
        this.app.api.listar("usuarios"),
        this.app.api.listar("filas"),
        this.admin ? this.app.api.listar("canais") : Promise.resolve([]),
      ]);
      this.listaFilas = filas;
      for (const select of this.el.querySelectorAll("select[data-filas]")) {
        trocar(select, select.dataset.filas === "opcional" ? h("option", { value: "" }, "(nenhuma)") : null, filas.map((f) => h("option", { value: f.id }, f.nome)));
      }
      trocar(this.usuarios, usuarios.map((u) => this.itemUsuario(u)));
      trocar(this.filas, filas.map((f) => h("li", { "data-fila": f.id }, h("span", {}, f.nome), h("span", {}, DISTRIBUICAO[f.distribuicao] ?? f.distribuicao))));
      const nomeFila = new Map(filas.map((f) => [f.id, f.nome]));
      const webhooks = await Promise.all(canais.map((c) => this.webhook(c.id)));
      trocar(
        this.canais,
        canais.map((c, i) =>
          h(
            "li",
            { "data-canal": c.id },
            h("span", {}, `${c.nome} (${TIPOS[c.tipo] ?? c.tipo})`, h("br"), this.descreverWebhook(webhooks[i])),
            h("span", {}, nomeFila.get(c.filaId) ?? ""),
          ),
        ),
      );
    });
  }

  // The channel's webhook and its most recent failed delivery; null when the channel has none.
  async webhook(canalId) {
    const canal = `/atendimento/canais/${encodeURIComponent(canalId)}`;
    try {
      const [webhook, falhas] = await Promise.all([
        this.app.api.dados("GET", `${canal}/webhook`),
        this.app.api.dados("GET", `${canal}/entregas?estado=falhou&limite=1`),
      ]);
      return { ...webhook, ultimaFalha: falhas[0] ?? null };
    } catch (e) {
      if (e.code === "WEBHOOK_NAO_ENCONTRADO") return null;
      throw e;
    }
  }

  descreverWebhook(w) {
    if (!w) return h("small", { classe: "webhook" }, "Sem webhook de saída");
    const estado = w.ativo
      ? h("span", { classe: "webhook-ativo" }, "ativo")
      : h("span", { classe: "webhook-desativado" }, `desativado${w.desativadoEm ? ` em ${hora(w.desativadoEm)}` : ""}${w.desativadoMotivo ? `: ${w.desativadoMotivo}` : ""}`);
    const falha = w.ultimaFalha;
    const ultima = falha
      ? h("span", { classe: "webhook-falha" }, ` · última falha ${hora(falha.concluidoEm ?? falha.criadoEm)}${falha.ultimoErro ? `: ${falha.ultimoErro}` : ""}`)
      : null;
    return h("small", { classe: "webhook" }, "Webhook ", h("code", {}, w.url), " · ", estado, ultima);
  }

  itemUsuario(u) {
    const alternar = h(
      "button",
      { type: "button", "data-alternar": u.id, onclick: () => this.tentar(async () => { await this.app.api.alterar("usuarios", u.id, { ativo: !u.ativo }); await this.carregar(); }) },
      u.ativo ? "Desativar" : "Ativar",
    );
    return h("li", { classe: u.ativo ? "" : "inativo", "data-usuario": u.email }, h("span", {}, `${u.nome} · ${PAPEIS[u.role] ?? u.role}`, h("br"), h("small", {}, u.email)), u.id === this.app.eu.id ? null : alternar);
  }

  formUsuario() {
    const nome = h("input", { name: "nome", required: true, maxlength: "200" });
    const email = h("input", { name: "email", type: "email", required: true, maxlength: "254" });
    const papel = h("select", { name: "role" }, opcoes(PAPEIS, this.admin ? [] : ["admin"]));
    papel.value = "atendente";
    const fila = h("select", { name: "fila", "data-filas": "opcional" });
    const form = h("form", { classe: "novo-usuario" }, campo("Nome", nome), campo("E-mail", email), campo("Perfil", papel), campo("Fila", fila), h("button", { type: "submit", classe: "primario" }, "Criar usuário"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.tentar(async () => {
        const corpo = { nome: nome.value, email: email.value, role: papel.value };
        if (fila.value) corpo.filaIds = [fila.value];
        const criado = await this.app.api.criar("usuarios", corpo);
        // Shown once: the server never answers it again.
        this.senha.textContent = criado.senhaGerada ? `Senha de ${criado.email}: ${criado.senhaGerada} (anote: não será mostrada de novo)` : "";
        form.reset();
        papel.value = "atendente";
        await this.carregar();
      });
    });
    return form;
  }

  formFila() {
    const nome = h("input", { name: "nome", required: true, maxlength: "200" });
    const distribuicao = h("select", { name: "distribuicao" }, opcoes(DISTRIBUICAO));
    const form = h("form", { classe: "nova-fila" }, campo("Nome", nome), campo("Distribuição", distribuicao), h("button", { type: "submit", classe: "primario" }, "Criar fila"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.tentar(async () => {
        await this.app.api.criar("filas", { nome: nome.value, distribuicao: distribuicao.value });
        form.reset();
        await this.carregar();
      });
    });
    return form;
  }

  formCanal() {
    const nome = h("input", { name: "nome", required: true, maxlength: "200" });
    const tipo = h("select", { name: "tipo" }, opcoes(TIPOS));
    const fila = h("select", { name: "fila", "data-filas": "obrigatoria" });
    const form = h("form", { classe: "novo-canal" }, campo("Nome", nome), campo("Tipo", tipo), campo("Fila dos tickets novos", fila), h("button", { type: "submit", classe: "primario" }, "Criar canal"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.tentar(async () => {
        await this.app.api.criar("canais", { nome: nome.value, tipo: tipo.value, filaId: fila.value });
        form.reset();
        await this.carregar();
      });
    });
    return form;
  }
}
