// The login kept for this tab only (sessionStorage): closing the tab ends it, another tab logs in apart.
const CHAVE = "atendimento.sessao";

export class Sessao {
  constructor(dados) {
    this.token = dados.token;
    this.expiraEm = dados.expiraEm;
    this.usuario = dados.usuario;
  }

  static carregar() {
    try {
      const dados = JSON.parse(sessionStorage.getItem(CHAVE) ?? "null");
      if (dados?.token && dados.expiraEm > Date.now() && dados.usuario?.id) return new Sessao(dados);
    } catch {
      // A damaged entry is the same as none.
    }
    sessionStorage.removeItem(CHAVE);
    return null;
  }

  static doLogin(resposta) {
    const sessao = new Sessao({
      token: resposta.access_token,
      expiraEm: Date.now() + resposta.expires_in * 1000,
      usuario: resposta.user,
    });
    sessao.salvar();
    return sessao;
  }

  salvar() {
    sessionStorage.setItem(CHAVE, JSON.stringify({ token: this.token, expiraEm: this.expiraEm, usuario: this.usuario }));
  }

  static apagar() {
    sessionStorage.removeItem(CHAVE);
  }
}
