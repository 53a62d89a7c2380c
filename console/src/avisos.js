// Toasts (notificacao, errors), the connection banner, and the "assigned to me" alert (sound + system
// notification when the user allowed it).
import { h, trocar } from "./dom.js";

export class Avisos {
  constructor(raiz) {
    this.pilha = h("div", { classe: "toasts", role: "status", "aria-live": "polite" });
    raiz.append(this.pilha);
    this.audio = null;
  }

  toast(texto, tipo = "info", duracaoMs = 6000) {
    const fechar = () => item.remove();
    const item = h(
      "div",
      { classe: `toast toast-${tipo}` },
      h("span", {}, texto),
      h("button", { type: "button", classe: "fechar", "aria-label": "Fechar aviso", onclick: fechar }, "×"),
    );
    this.pilha.append(item);
    setTimeout(fechar, duracaoMs);
  }

  // A short two-tone beep made with WebAudio: no sound file to ship, nothing to fetch.
  bip() {
    try {
      this.audio ??= new AudioContext();
      const agora = this.audio.currentTime;
      for (const [i, freq] of [880, 1320].entries()) {
        const osc = this.audio.createOscillator();
        const ganho = this.audio.createGain();
        osc.frequency.value = freq;
        ganho.gain.setValueAtTime(0.08, agora + i * 0.15);
        ganho.gain.exponentialRampToValueAtTime(0.0001, agora + i * 0.15 + 0.14);
        osc.connect(ganho).connect(this.audio.destination);
        osc.start(agora + i * 0.15);
        osc.stop(agora + i * 0.15 + 0.15);
      }
    } catch {
      // No audio (autoplay policy, no device): the toast still shows.
    }
  }

  notificarSistema(titulo, corpo) {
    if (typeof Notification === "undefined" || Notification.permission !== "granted" || !document.hidden) return;
    try {
      new Notification(titulo, { body: corpo });
    } catch {
      // Some browsers only allow notifications from a service worker; the toast and the sound remain.
    }
  }
}

const BANNER = {
  desconectado: ["alerta", "Sem conexão com o servidor. Tentando reconectar…"],
  reconectando: ["alerta", "Sem conexão com o servidor. Reconectando…"],
  sincronizando: ["info", "Reconectado. Atualizando o que mudou…"],
  voltou: ["ok", "Conexão restabelecida."],
};

export class Banner {
  constructor() {
    this.el = h("div", { classe: "banner", role: "status", "aria-live": "assertive", hidden: true });
    this.redis = h("div", { classe: "banner banner-aviso", role: "status", hidden: true });
    this.timer = null;
  }

  conexao(estado, detalhe = {}) {
    clearTimeout(this.timer);
    let chave = estado;
    if (estado === "conectado") {
      if (!detalhe.voltou) {
        this.el.hidden = true;
        return;
      }
      chave = "voltou";
      this.timer = setTimeout(() => {
        this.el.hidden = true;
      }, 4000);
    }
    const [tipo, texto] = BANNER[chave] ?? BANNER.desconectado;
    const sufixo = estado === "reconectando" && detalhe.tentativa ? ` (tentativa ${detalhe.tentativa})` : "";
    this.el.className = `banner banner-${tipo}`;
    this.el.dataset.estado = chave;
    trocar(this.el, texto + sufixo);
    this.el.hidden = false;
  }

  sistema(redis) {
    this.redis.hidden = redis !== "degradado";
    trocar(this.redis, "Aviso: a comunicação entre servidores está degradada; eventos de colegas podem atrasar.");
  }
}
