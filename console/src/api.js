// REST calls with the Bearer token and the product's envelope ({success, data} / {success, error, code}).

export class ErroApi extends Error {
  constructor(status, code, mensagem) {
    super(mensagem);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor() {
    this.token = null;
    // Called with an ErroApi whose status is 401 on an authenticated call (token gone or expired).
    this.aoNaoAutorizado = () => {};
  }

  async pedir(metodo, caminho, corpo, extras = {}) {
    const cabecalhos = { Accept: "application/json", ...extras };
    if (this.token) cabecalhos.Authorization = `Bearer ${this.token}`;
    if (corpo !== undefined) cabecalhos["Content-Type"] = "application/json";
    let resposta;
    try {
      resposta = await fetch(caminho, {
        method: metodo,
        headers: cabecalhos,
        body: corpo === undefined ? undefined : JSON.stringify(corpo),
        cache: "no-store",
      });
    } catch {
      throw new ErroApi(0, "SEM_CONEXAO", "Sem conexão com o servidor");
    }
    let envelope = null;
    try {
      envelope = await resposta.json();
    } catch {
      envelope = null;
    }
    if (!resposta.ok || !envelope || envelope.success !== true) {
      const erro = new ErroApi(
        resposta.status,
        envelope?.code ?? "ERRO_HTTP",
        envelope?.error ?? `Erro ${resposta.status}`,
      );
      if (resposta.status === 401 && this.token && caminho !== "/auth/login") this.aoNaoAutorizado(erro);
      throw erro;
    }
    return envelope;
  }

  async dados(metodo, caminho, corpo) {
    return (await this.pedir(metodo, caminho, corpo)).data;
  }

  // Every page of a list. A server that paginates answers `proximoCursor`; one that does not answers
  // the whole list at once, and this returns it as it is.
  async todos(caminho, parametros = {}) {
    const itens = [];
    let cursor = null;
    for (let pagina = 0; pagina < 1000; pagina++) {
      const busca = new URLSearchParams(parametros);
      busca.set("limite", "200");
      if (cursor) busca.set("cursor", cursor);
      const envelope = await this.pedir("GET", `${caminho}?${busca}`);
      itens.push(...envelope.data);
      cursor = envelope.proximoCursor ?? null;
      if (!cursor) break;
    }
    return itens;
  }

  login(email, senha) {
    return this.dados("POST", "/auth/login", { email, senha });
  }

  renovar() {
    return this.dados("POST", "/auth/renovar");
  }

  tickets(parametros) {
    return this.todos("/atendimento/tickets", parametros);
  }

  mensagens(ticketId) {
    return this.todos(`/atendimento/tickets/${encodeURIComponent(ticketId)}/mensagens`);
  }

  // `chave` (Idempotency-Key) makes a retry of the same message safe: the server answers the first
  // answer again instead of storing it twice (a server without that support ignores the header).
  async enviar(ticketId, conteudo, chave) {
    const caminho = `/atendimento/tickets/${encodeURIComponent(ticketId)}/mensagens`;
    return (await this.pedir("POST", caminho, { conteudo, tipo: "texto" }, { "Idempotency-Key": chave })).data;
  }

  atribuir(ticketId, atendenteId) {
    return this.dados("POST", `/atendimento/tickets/${encodeURIComponent(ticketId)}/atribuir`, { atendenteId });
  }

  mudarStatus(ticketId, status) {
    return this.dados("POST", `/atendimento/tickets/${encodeURIComponent(ticketId)}/status`, { status });
  }

  atendentes() {
    return this.dados("GET", "/atendimento/atendentes");
  }

  // Read state: kept per user by the server, so every device and a reload show the same counts.
  marcarLida(ticketId, ate) {
    return this.dados("POST", `/atendimento/tickets/${encodeURIComponent(ticketId)}/lida`, { ate });
  }

  // Administration (admin; gestor for filas and atendentes).
  listar(recurso) {
    return this.todos(`/atendimento/${recurso}`);
  }

  criar(recurso, corpo) {
    return this.dados("POST", `/atendimento/${recurso}`, corpo);
  }

  alterar(recurso, id, corpo) {
    return this.dados("PATCH", `/atendimento/${recurso}/${encodeURIComponent(id)}`, corpo);
  }

  // Channels out: a failed delivery of a message, found among the channel's failed ones, sent again.
  async reenviarMensagem(canalId, mensagemId, entregaId) {
    const canal = `/atendimento/canais/${encodeURIComponent(canalId)}`;
    let id = entregaId;
    if (!id) {
      const falhas = await this.todos(`${canal}/entregas`, { estado: "falhou" });
      id = falhas.find((e) => e.mensagemId === mensagemId)?.id;
      if (!id) throw new ErroApi(404, "ENTREGA_NAO_ENCONTRADA", "entrega não encontrada");
    }
    return this.dados("POST", `${canal}/entregas/${encodeURIComponent(id)}/reenviar`);
  }
}

export function novaChave() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
