// The socket to /atendimento, and everything a console must do to keep it honest:
// - state for the banner: conectando → conectado; desconectado → reconectando → sincronizando → conectado;
// - after a reconnect, `socket.recovered` (the server replayed what we missed) means nothing to fetch;
//   otherwise the app catches up over REST (`aoReconectar(false)`) before the state says "back";
// - token renewal before expiry: on `auth:expirando` (or our own timer, a minute before `exp`, if the
//   server never says), POST /auth/renovar, then `auth:renovar {token}` on this same connection, and
//   the new token is what the next reconnect's handshake carries;
// - typing: `mensagem:digitando` at most once every INTERVALO_DIGITANDO_MS per ticket (the server
//   allows 10 a minute; one every 8 s stays well under it).
import { io } from "socket.io-client";

export const INTERVALO_DIGITANDO_MS = 8000;
const ANTECEDENCIA_RENOVACAO_MS = 60_000;

export class Conexao {
  constructor({ api, sessao, aoEstado, aoReconectar, aoSessaoPerdida }) {
    this.api = api;
    this.sessao = sessao; // { token, expiraEm (ms) } and salvar()
    this.aoEstado = aoEstado;
    this.aoReconectar = aoReconectar;
    this.aoSessaoPerdida = aoSessaoPerdida;
    this.ouvintes = new Map();
    this.estado = "conectando";
    this.ultimoDigitando = new Map();
    this.jaConectou = false;
    this.renovando = null;
    this.timerRenovacao = null;
  }

  iniciar() {
    // presenca "lote": the team's presence in batches (atendente:presenca), not one event per change.
    const auth = { token: this.sessao.token, presenca: "lote" };
    this.auth = auth;
    // Same origin, default path. Reconnection is socket.io-client's own (exponential, capped at 5 s).
    this.socket = io("/atendimento", {
      auth,
      transports: ["websocket", "polling"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
    });
    const s = this.socket;
    s.on("connect", () => this.conectou());
    s.on("disconnect", (motivo) => this.caiu(motivo));
    s.on("connect_error", (erro) => this.erroDeConexao(erro));
    s.io.on("reconnect_attempt", (n) => this.mudar("reconectando", { tentativa: n }));
    s.on("auth:expirando", () => this.renovar());
    s.onAny((evento, ...args) => {
      for (const ouvinte of this.ouvintes.get(evento) ?? []) ouvinte(...args);
    });
    this.agendarRenovacao();
  }

  on(evento, ouvinte) {
    if (!this.ouvintes.has(evento)) this.ouvintes.set(evento, []);
    this.ouvintes.get(evento).push(ouvinte);
  }

  mudar(estado, detalhe = {}) {
    this.estado = estado;
    this.aoEstado(estado, detalhe);
  }

  async conectou() {
    const voltou = this.jaConectou;
    this.jaConectou = true;
    if (!voltou) {
      this.mudar("conectado");
      await this.aoReconectar({ primeira: true, recuperado: false });
      return;
    }
    const recuperado = this.socket.recovered === true;
    this.mudar("sincronizando", { recuperado });
    try {
      await this.aoReconectar({ primeira: false, recuperado });
      this.mudar("conectado", { voltou: true });
    } catch {
      // Catch-up failed (the server went away again, most likely): the next connect retries it.
      if (this.socket.connected) this.mudar("conectado", { voltou: true, incompleto: true });
    }
  }

  caiu(motivo) {
    if (motivo === "io client disconnect") return;
    this.mudar("desconectado", { motivo });
    if (motivo === "io server disconnect") {
      // The server ended it (the token expired, usually): socket.io-client does not retry this one
      // by itself. Renew, then connect again with the new token.
      this.renovar().then((ok) => {
        if (ok) this.socket.connect();
      });
    }
  }

  erroDeConexao(erro) {
    const code = erro?.data?.code;
    if (code === "TOKEN_EXPIRADO" || code === "TOKEN_INVALIDO" || code === "TOKEN_AUSENTE") {
      this.renovar().then((ok) => {
        if (ok) this.socket.connect();
      });
      return;
    }
    if (!this.socket.active) this.mudar("desconectado", { motivo: erro?.message });
  }

  emitir(evento, payload, prazoMs = 5000) {
    return new Promise((resolver) => {
      if (!this.socket.connected) {
        resolver({ success: false, code: "DESCONECTADO", error: "Sem conexão" });
        return;
      }
      this.socket.timeout(prazoMs).emit(evento, payload, (erro, resposta) => {
        resolver(erro ? { success: false, code: "SEM_RESPOSTA", error: "Sem resposta do servidor" } : resposta);
      });
    });
  }

  // Typing is advisory: throttled here, and a refusal (LIMITE_EXCEDIDO) just waits for the next window.
  digitando(ticketId) {
    const agora = Date.now();
    const ultimo = this.ultimoDigitando.get(ticketId) ?? 0;
    if (agora - ultimo < INTERVALO_DIGITANDO_MS || !this.socket.connected) return false;
    this.ultimoDigitando.set(ticketId, agora);
    this.socket.emit("mensagem:digitando", { ticketId });
    return true;
  }

  enviouMensagem(ticketId) {
    // After a send, the next keystroke starts a new "typing" right away.
    this.ultimoDigitando.delete(ticketId);
  }

  agendarRenovacao() {
    clearTimeout(this.timerRenovacao);
    // A minute before exp, or halfway through a shorter life (as the server's auth:expirando does).
    const resta = this.sessao.expiraEm - Date.now();
    const falta = Math.max(resta - ANTECEDENCIA_RENOVACAO_MS, resta / 2);
    // setTimeout's limit is ~24.8 days; a token lives hours.
    this.timerRenovacao = setTimeout(() => this.renovar(), Math.max(1000, Math.min(falta, 2 ** 31 - 1)));
  }

  // One renewal at a time; resolves true when a new token is in place (REST and socket).
  renovar() {
    if (!this.renovando) {
      this.renovando = this.renovarAgora().finally(() => {
        this.renovando = null;
      });
    }
    return this.renovando;
  }

  async renovarAgora() {
    let dados;
    try {
      dados = await this.api.renovar();
    } catch (erro) {
      if (erro.status === 401) {
        this.aoSessaoPerdida(erro.code === "SESSAO_EXPIRADA" ? "Sua sessão expirou. Entre de novo." : "Sessão encerrada. Entre de novo.");
        return false;
      }
      // The server is away: try again in a little while (the token may still have time left).
      this.timerRenovacao = setTimeout(() => this.renovar(), 10_000);
      return false;
    }
    this.sessao.token = dados.access_token;
    this.sessao.expiraEm = Date.now() + dados.expires_in * 1000;
    this.sessao.salvar();
    this.api.token = dados.access_token;
    this.auth.token = dados.access_token; // what the next handshake sends
    if (this.socket.connected) {
      const resposta = await this.emitir("auth:renovar", { token: dados.access_token });
      // A server without in-band renewal answers EVENTO_DESCONHECIDO; its disconnect at the old
      // expiry then reconnects with the new token (see caiu).
      if (!resposta?.success && resposta?.code !== "EVENTO_DESCONHECIDO") {
        console.warn("auth:renovar recusado", resposta?.code);
      }
    }
    this.agendarRenovacao();
    return true;
  }

  fechar() {
    clearTimeout(this.timerRenovacao);
    this.socket?.disconnect();
  }
}
