// Interface words (pt-BR) and the ticket status machine of docs/domain.md.

export const STATUS = {
  aberto: "Aberto",
  em_atendimento: "Em atendimento",
  aguardando_cliente: "Aguardando cliente",
  resolvido: "Resolvido",
  fechado: "Fechado",
};

export const TRANSICOES = {
  aberto: ["em_atendimento", "aguardando_cliente", "resolvido", "fechado"],
  em_atendimento: ["aberto", "aguardando_cliente", "resolvido", "fechado"],
  aguardando_cliente: ["aberto", "em_atendimento", "resolvido", "fechado"],
  resolvido: ["aberto", "em_atendimento", "fechado"],
  fechado: [],
};

export const ACOES_STATUS = {
  aberto: "Devolver à fila",
  em_atendimento: "Em atendimento",
  aguardando_cliente: "Aguardar cliente",
  resolvido: "Resolver",
  fechado: "Fechar",
};

export const PRIORIDADE = { baixa: "Baixa", media: "Média", alta: "Alta", urgente: "Urgente" };

export const STATUS_ATENDENTE = {
  online: "Disponível",
  ocupado: "Ocupado",
  ausente: "Ausente",
  offline: "Invisível",
};

// Channels out: what happened to an agent's message on its way to the customer.
export const ESTADO_SAIDA = {
  pendente: "enviando",
  enviada: "enviada",
  entregue: "entregue",
  lida: "lida",
  falhou: "falhou",
};
