"""The fuzzers together run at least 10,000 generated cases per run (issue 8, must show)."""

from __future__ import annotations

from typing import Any

from tests.fuzz import test_commands, test_conductor, test_config, test_typed_text

FUZZERS = [
    test_commands.test_staff_parser_never_crashes,
    test_commands.test_youth_parser_never_crashes,
    test_commands.test_invisible_characters_do_not_change_a_staff_command,
    test_commands.test_a_disguised_youth_word_is_still_that_command,
    test_config.test_any_shape_is_settings_or_config_error,
    test_config.test_nearly_right_values_are_settings_or_config_error,
    test_config.test_any_file_is_settings_or_config_error,
    test_conductor.test_event_handlers_survive_any_sequence,
]


def examples(test: Any) -> int:
    return int(test._hypothesis_internal_use_settings.max_examples)


def test_the_fuzzers_run_at_least_ten_thousand_cases() -> None:
    # The parsers of typed text: one run per parser.
    typed = examples(test_typed_text.test_no_parser_of_typed_text_raises) \
        * len(test_typed_text.PARSERS)
    assert sum(examples(t) for t in FUZZERS) + typed >= 10_000
    assert examples(test_conductor.test_event_handlers_survive_any_sequence) >= 1000
