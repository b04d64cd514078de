"""The production client, asyncari 0.20.6, connects to the simulator unchanged."""

from __future__ import annotations

import anyio
import asyncari

from callcenter_ari.sim import Simulator
from tests.sim.conftest import PASSWORD, USER


async def test_asyncari_answers_plays_and_hangs_up_an_injected_call(sim: Simulator) -> None:
    """asyncari loads the Swagger description, receives StasisStart, answers, plays, hangs up, sees StasisEnd."""
    seen: list[str] = []
    async with sim.serve() as server, asyncari.connect(server.base_url, "callcenter", USER, PASSWORD) as client:

        async def app() -> None:
            async with client.on_channel_event("StasisStart") as starts:
                async for objs, event in starts:
                    channel = objs["channel"]
                    seen.append(f"start {event.args}")
                    await client.channels.answer(channelId=channel.id)
                    playback = await channel.play(media="sound:hello-world")
                    seen.append(f"playback {playback.json['state']}")
                    await channel.hangup()
                    return

        async def ends() -> None:
            async with client.on_channel_event("StasisEnd") as stream:
                async for _objs, _event in stream:
                    seen.append("end")
                    return

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(app)
                tg.start_soon(ends)
                await anyio.sleep(0.1)
                channel_id = await sim.inject_call(did="5551000", caller="+15551234567", caller_name="Alice")
        assert seen == ["start ['inbound', 'provider', '5551000']", "playback queued", "end"]
        assert sim.channel(channel_id) is None
