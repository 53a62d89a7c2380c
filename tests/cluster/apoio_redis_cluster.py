"""A real Redis Cluster the test owns: 6 ``redis-server --cluster-enabled yes`` (3 primaries, 3
replicas) on ports of its own, a short ``cluster-node-timeout`` so a killed primary fails over in a
second or two. Started and stopped by the fixture; ``matar`` kills one node with SIGKILL.

Ready means every replica has its primary's data: ``cluster_state:ok`` alone comes seconds before
the replicas' first sync, and a primary killed then is replaced by an empty replica (a failover
that loses everything, not the one a test means)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from apoio_rede import porta_livre
from redis.crc import key_slot

NOS = 6
TIMEOUT_NO_MS = 1000


class RedisClusterProprio:
    def __init__(self) -> None:
        self._pasta = Path(tempfile.mkdtemp(prefix="redis-cluster-6-"))
        self.portas: list[int] = []
        self._barramentos: list[int] = []
        self._processos: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.portas[:3])

    def _portas_novas(self) -> tuple[int, int]:
        """A port and a bus port that no node of ours uses (the bus port defaults to port + 10000,
        which may be taken or past 65535)."""
        usadas = {*self.portas, *self._barramentos}
        while True:
            porta, barramento = porta_livre(), porta_livre()
            if porta != barramento and not {porta, barramento} & usadas:
                return porta, barramento

    def _subir(self, porta: int, barramento: int) -> bool:
        """Start one node; False when it died at once (a port taken meanwhile by someone else)."""
        binario = shutil.which("redis-server")
        assert binario, "redis-server is not on PATH"
        pasta = self._pasta / str(porta)
        pasta.mkdir()
        processo = self._processos[porta] = subprocess.Popen(
            [
                binario,
                "--port", str(porta),
                "--cluster-port", str(barramento),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(pasta / "nodes.conf"),
                "--cluster-node-timeout", str(TIMEOUT_NO_MS),
                # A replica takes over however long it was cut off (a test kills at any moment).
                "--cluster-replica-validity-factor", "0",
                # A replica's first sync starts at once, not after the default 5 s wait for others.
                "--repl-diskless-sync-delay", "0",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(pasta),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        limite = time.monotonic() + 20
        while time.monotonic() < limite and processo.poll() is None:
            cliente = self._cliente(porta)
            try:
                if cliente.ping():
                    return True
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                cliente.close()
        processo.kill()
        processo.wait(5)
        del self._processos[porta]
        return False

    def iniciar(self) -> None:
        self.portas = []
        for _ in range(NOS):
            for _tentativa in range(5):
                porta, barramento = self._portas_novas()
                if self._subir(porta, barramento):
                    self.portas.append(porta)
                    self._barramentos.append(barramento)
                    break
            else:
                raise RuntimeError("a Redis Cluster node would not start (5 tries)")
        cli = shutil.which("redis-cli")
        assert cli, "redis-cli is not on PATH"
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.portas),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        self.esperar_ok()

    def _cliente(self, porta: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=porta, socket_connect_timeout=0.5, socket_timeout=2)

    @staticmethod
    def _esperar(condicao: object, prazo: float = 30.0) -> None:
        limite = time.monotonic() + prazo
        ultimo: object = None
        while time.monotonic() < limite:
            try:
                if condicao():  # type: ignore[operator]
                    return
            except redis.RedisError as exc:
                ultimo = exc
            time.sleep(0.05)
        raise RuntimeError(f"Redis Cluster not ready in {prazo} s ({ultimo!r})")

    def vivos(self) -> list[int]:
        return [p for p, proc in self._processos.items() if proc.poll() is None]

    def esperar_ok(self, prazo: float = 60.0) -> None:
        """Every live node says ``cluster_state:ok`` and agrees that every slot has a live primary,
        and every live replica is in sync with its primary."""

        def pronto() -> bool:
            for porta in self.vivos():
                cliente = self._cliente(porta)
                try:
                    if cliente.cluster("info").get("cluster_state") != "ok":
                        return False
                    replicacao = cliente.info("replication")
                    if replicacao.get("role") == "slave" and (
                        replicacao.get("master_link_status") != "up"
                        or int(replicacao.get("master_sync_in_progress", 0))
                    ):
                        return False
                    for _inicio, _fim, primario, *_ in cliente.cluster("slots"):
                        if int(primario[1]) not in self.vivos():
                            return False
                finally:
                    cliente.close()
            return True

        self._esperar(pronto, prazo)

    def primario_de(self, chave: str) -> int:
        """The port of the primary that owns ``chave``'s slot now."""
        slot = key_slot(chave.encode())
        cliente = self._cliente(self.vivos()[0])
        try:
            for inicio, fim, primario, *_ in cliente.cluster("slots"):
                if int(inicio) <= slot <= int(fim):
                    return int(primario[1])
        finally:
            cliente.close()
        raise LookupError(slot)

    def primario_de_porta(self, porta: int) -> bool:
        """Whether the node on ``porta`` is a primary now."""
        cliente = self._cliente(porta)
        try:
            return str(cliente.info("replication").get("role")) == "master"
        finally:
            cliente.close()

    def matar(self, porta: int) -> None:
        """SIGKILL one node (as a crashed machine): no goodbye to the cluster or to its clients."""
        processo = self._processos[porta]
        processo.kill()
        processo.wait(5)

    def encerrar(self) -> None:
        for processo in self._processos.values():
            if processo.poll() is None:
                processo.kill()
                processo.wait(5)
        shutil.rmtree(self._pasta, ignore_errors=True)


def mover_slot(cluster: RedisClusterProprio, slot: int, destino: int) -> None:
    """Move an empty ``slot`` to the primary on port ``destino`` (CLUSTER SETSLOT, as a resharding
    does for each slot once its keys are migrated): its owner then SUNSUBSCRIBEs the slot's channels."""
    clientes = {p: cluster._cliente(p) for p in cluster.vivos()}
    try:
        ids = {p: bytes(c.execute_command("CLUSTER", "MYID")).decode() for p, c in clientes.items()}
        origem = next(
            int(primario[1])
            for inicio, fim, primario, *_ in clientes[destino].cluster("slots")
            if int(inicio) <= slot <= int(fim)
        )
        clientes[destino].execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[origem])
        clientes[origem].execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[destino])
        outros = [p for p in clientes if p not in (destino, origem) and cluster.primario_de_porta(p)]
        for porta in (destino, origem, *outros):  # primaries only; replicas learn it by gossip
            clientes[porta].execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[destino])
    finally:
        for cliente in clientes.values():
            cliente.close()
