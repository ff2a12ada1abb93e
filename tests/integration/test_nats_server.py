from careledger.stack.nats_server import NatsServer
from tests.support.nats import connect


async def test_a_started_server_accepts_jetstream_clients(nats_server: NatsServer) -> None:
    nc = await connect(nats_server)
    info = await nc.jetstream().account_info()
    await nc.close()
    assert info.limits is not None


def test_a_killed_server_is_gone_and_restarts_on_the_same_port(nats_server: NatsServer) -> None:
    port, pid = nats_server.port, nats_server.pid
    nats_server.kill()
    assert nats_server.process is not None and nats_server.process.poll() is not None
    nats_server.start()
    assert nats_server.port == port and nats_server.pid != pid
