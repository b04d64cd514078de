"""ARI's error answers become exceptions by status and by the object the request named, never by a part of the
message; a transport's own exceptions become ``AriUnavailable`` where they happen."""

from __future__ import annotations

import pytest

from callcenter_ari.ari.errors import (
    AriError,
    AriUnavailable,
    AsteriskFailure,
    BadRequest,
    ChannelGone,
    Conflict,
    NotFound,
    Unprocessable,
    VariableUnset,
    error_for,
    map_exceptions,
)


class TestErrorFor:
    def test_a_404_on_a_request_naming_a_channel_is_that_channel_gone_whatever_the_words(self) -> None:
        for message in ("Channel not found", "Provided channel was not found", "Not found"):
            gone = error_for(404, message, channel="c1-a1")
            assert isinstance(gone, ChannelGone) and (gone.channel_id, gone.status) == ("c1-a1", 404)

    def test_a_404_naming_no_channel_is_not_found(self) -> None:
        missing = error_for(404, "Channel not found")  # a bridge's or a playback's: no channel was named
        assert type(missing) is NotFound

    def test_an_unknown_path_is_not_a_gone_channel(self) -> None:
        assert type(error_for(404, "Resource not found", channel="c1")) is NotFound

    def test_an_unset_variable_on_a_live_channel_is_not_a_gone_channel(self) -> None:
        assert type(error_for(404, "Provided variable was not found", channel="c1")) is VariableUnset

    def test_a_listed_channel_gone_from_add_channel_is_named_when_it_was_the_only_one(self) -> None:
        one = error_for(400, "Channel not found", listed=["c1"])
        several = error_for(400, "Channel not found", listed=["c1", "c1-a1"])
        assert isinstance(one, ChannelGone) and one.channel_id == "c1" and one.status == 400
        assert isinstance(several, ChannelGone) and several.channel_id == ""
        assert type(error_for(400, "Channel not found")) is BadRequest  # removeChannel: not a hang-up race

    def test_an_originators_being_gone_is_that_channel_gone(self) -> None:
        """An agent's leg originated for a caller who hung up just before: the caller's hang-up, not a failure."""
        gone = error_for(400, "Provided originator channel was not found", listed=["c1"])
        assert isinstance(gone, ChannelGone) and gone.channel_id == "c1"
        assert type(error_for(400, "Originator and formats can't both be specified", listed=["c1"])) is BadRequest

    @pytest.mark.parametrize(
        ("status", "kind"),
        [(400, BadRequest), (409, Conflict), (422, Unprocessable), (500, AsteriskFailure), (501, AsteriskFailure)],
    )
    def test_other_answers_by_status(self, status: int, kind: type[AriError]) -> None:
        error = error_for(status, "", channel="c1")
        assert type(error) is kind and error.status == status and error.message == f"HTTP {status}"


class TestMapExceptions:
    def test_the_first_matching_type_is_mapped_and_others_pass(self) -> None:
        mapping = {TimeoutError: lambda e: AriUnavailable("timed out"), OSError: lambda e: AriUnavailable(str(e))}
        with pytest.raises(AriUnavailable, match="timed out"), map_exceptions(mapping):
            raise TimeoutError  # also an OSError: the first entry wins
        with pytest.raises(AriUnavailable, match="refused"), map_exceptions(mapping):
            raise ConnectionRefusedError("refused")
        with pytest.raises(KeyError), map_exceptions(mapping):
            raise KeyError("not ours")
