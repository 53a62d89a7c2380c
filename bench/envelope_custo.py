"""CPU per message between instances: encoding an emit (sender) and decoding and validating it
(each receiver), for a ``ticket:novo`` of the usual size.

    .venv/bin/python bench/envelope_custo.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import sys
import timeit

from atendimento.cluster.envelopes import argumentos, codificar_broadcast, decodificar

UUID = "7c0e9a53-1c5e-4f4e-9b7a-2d1f0b3c4d5e"
TICKET = {
    "id": UUID,
    "numero": "1234",
    "empresaId": UUID,
    "clienteId": UUID,
    "canalId": UUID,
    "filaId": UUID,
    "status": "aberto",
    "prioridade": "normal",
    "assunto": "Pedido atrasado, cliente pede reembolso",
    "atendenteId": None,
    "criadoEm": "2026-12-07T18:00:00.000Z",
    "atualizadoEm": "2026-12-07T18:00:00.000Z",
    "cliente": {"id": UUID, "nome": "Fulano de Tal", "contato": "+5511999999999"},
    "canal": {"id": UUID, "tipo": "whatsapp", "nome": "WhatsApp"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    n = parser.parse_args().runs
    salas = [f"empresa:{UUID}:internos"]
    dados = codificar_broadcast("host-1-abc", "/atendimento", "ticket:novo", [TICKET], salas)
    codificar = timeit.timeit(
        lambda: codificar_broadcast("host-1-abc", "/atendimento", "ticket:novo", [TICKET], salas), number=n
    )
    ler = timeit.timeit(lambda: argumentos(decodificar(dados, "/atendimento")), number=n)
    print(
        f"{len(dados)} bytes; encode {codificar / n * 1e6:.1f} µs, decode and validate {ler / n * 1e6:.1f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
