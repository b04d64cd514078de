"""queue_log lines, field for field as Asterisk's app_queue writes them."""

from __future__ import annotations

import pytest

from callcenter_ari.acd import queue_log as ql


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (ql.enter_queue(1700000000.7, "c1", "support", "5551234"), "1700000000|c1|support|NONE|ENTERQUEUE||5551234"),
        (
            ql.connect(1700000020, "c1", "support", "a1", 19.6, "c1-a1", 4.2),
            "1700000020|c1|support|a1|CONNECT|20|c1-a1|4",
        ),
        (
            ql.complete_caller(1700000100, "c1", "support", "a1", 20, 80.4, 3),
            "1700000100|c1|support|a1|COMPLETECALLER|20|80|3",
        ),
        (
            ql.complete_agent(1700000100, "c1", "support", "a1", 20, 80, 3),
            "1700000100|c1|support|a1|COMPLETEAGENT|20|80|3",
        ),
        (ql.abandon(1700000050, "c2", "support", 2, 4, 31), "1700000050|c2|support|NONE|ABANDON|2|4|31"),
        (ql.ring_no_answer(1700000030, "c3", "support", "a2", 15.0), "1700000030|c3|support|a2|RINGNOANSWER|15000"),
        (
            ql.exit_with_timeout(1700000600, "c4", "support", 1, 5, 600),
            "1700000600|c4|support|NONE|EXITWITHTIMEOUT|1|5|600",
        ),
        (ql.exit_empty(1700000700, "c5", "support", 1, 1, 42), "1700000700|c5|support|NONE|EXITEMPTY|1|1|42"),
        (ql.agent_login(1700000000, "a1", "PJSIP/agent1"), "1700000000|NONE|NONE|a1|AGENTLOGIN|PJSIP/agent1"),
        (
            ql.agent_logoff(1700003600, "a1", "PJSIP/agent1", 3600),
            "1700003600|NONE|NONE|a1|AGENTLOGOFF|PJSIP/agent1|3600",
        ),
        (ql.pause(1700001000, "support", "a1", "break"), "1700001000|NONE|support|a1|PAUSE|break"),
        (ql.unpause(1700001600, "support", "a1"), "1700001600|NONE|support|a1|UNPAUSE|"),
    ],
)
def test_lines(made: str, expected: str) -> None:
    assert made == expected


def test_a_pipe_inside_a_field_cannot_shift_the_fields_after_it() -> None:
    assert ql.pause(1, "q", "a1", "lunch|long\nbreak") == "1|NONE|q|a1|PAUSE|lunch/long break"
