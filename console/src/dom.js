// Small DOM helpers: every text goes through textContent (never innerHTML), so a message or a name
// can never inject markup, and the strict Content-Security-Policy needs no exception.

export function h(tag, atributos = {}, ...filhos) {
  const el = document.createElement(tag);
  for (const [nome, valor] of Object.entries(atributos)) {
    if (valor === undefined || valor === null || valor === false) continue;
    if (nome.startsWith("on") && typeof valor === "function") {
      el.addEventListener(nome.slice(2), valor);
    } else if (nome === "classe") {
      el.className = valor;
    } else if (valor === true) {
      el.setAttribute(nome, "");
    } else {
      el.setAttribute(nome, String(valor));
    }
  }
  anexar(el, filhos);
  return el;
}

function anexar(el, filhos) {
  for (const filho of filhos) {
    if (filho === null || filho === undefined || filho === false) continue;
    if (Array.isArray(filho)) anexar(el, filho);
    else el.append(filho instanceof Node ? filho : document.createTextNode(String(filho)));
  }
}

export function trocar(el, ...filhos) {
  el.replaceChildren();
  anexar(el, filhos);
}

const horaFmt = new Intl.DateTimeFormat("pt-BR", { hour: "2-digit", minute: "2-digit" });
const dataFmt = new Intl.DateTimeFormat("pt-BR", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });

export function hora(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const hoje = new Date();
  return d.toDateString() === hoje.toDateString() ? horaFmt.format(d) : dataFmt.format(d);
}
