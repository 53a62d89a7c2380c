// The login screen: email and senha → POST /auth/login.
import { h } from "./dom.js";

export function telaLogin(raiz, { api, aoEntrar, aviso }) {
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true });
  const senha = h("input", { id: "senha", name: "senha", type: "password", autocomplete: "current-password", required: true });
  const erro = h("p", { classe: "erro", role: "alert" }, aviso ?? "");
  const botao = h("button", { type: "submit", classe: "primario" }, "Entrar");
  const form = h(
    "form",
    { classe: "login", "aria-labelledby": "titulo-login" },
    h("h1", { id: "titulo-login" }, "Atendimento"),
    h("p", { classe: "sub" }, "Entre com seu e-mail e senha."),
    h("label", { for: "email" }, "E-mail"),
    email,
    h("label", { for: "senha" }, "Senha"),
    senha,
    erro,
    botao,
  );
  form.addEventListener("submit", async (evento) => {
    evento.preventDefault();
    erro.textContent = "";
    botao.disabled = true;
    botao.textContent = "Entrando…";
    try {
      const resposta = await api.login(email.value.trim(), senha.value);
      aoEntrar(resposta);
    } catch (e) {
      erro.textContent =
        e.code === "CREDENCIAIS_INVALIDAS" ? "E-mail ou senha inválidos." : e.status === 429 ? "Muitas tentativas. Aguarde um pouco." : e.message;
      botao.disabled = false;
      botao.textContent = "Entrar";
      senha.select();
    }
  });
  raiz.replaceChildren(h("main", { classe: "tela-login" }, form));
  email.focus();
}
