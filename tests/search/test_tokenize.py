"""The one tokenizer: units, index tokens, query phrases."""

from __future__ import annotations

import pytest

from search.tokenize import (
    _analysed,
    _analysed_any,
    field_units,
    index_tokens,
    parse_query,
    unit_texts,
)


def test_units_split_cjk_by_character_and_keep_latin_words_lower_cased() -> None:
    assert unit_texts("TCL科技（惠州）3M中国, Ｈｕａｗｅｉ！") == [
        "tcl", "科", "技", "惠", "州", "3m", "中", "国", "huawei",
    ]  # fmt: skip


def test_index_tokens_are_unigrams_and_bigrams_of_each_cjk_run_and_the_words() -> None:
    assert index_tokens("华为技术 TCL", "为民") == [
        "tcl", "为", "为技", "为民", "华", "华为", "技", "技术", "术", "民",
    ]  # fmt: skip


def test_a_query_is_phrases_and_the_tokens_that_find_them() -> None:
    query = parse_query("TCL科技  手机 华")
    assert query.phrases == (("tcl", "科", "技"), ("手", "机"), ("华",))
    assert query.tokens == ("tcl", "科技", "手机", "华")
    assert query.key == "tcl 科 技 手 机 华"
    assert query.pattern(query.phrases[0]) == " tcl 科 技 "


def test_a_query_without_letters_has_no_phrase() -> None:
    assert parse_query(" ，。！ ").phrases == ()


def test_field_units_keep_values_apart() -> None:
    assert field_units(["健宝", "华为"]) == " 健 宝 | 华 为 "
    assert " 宝 华 " not in field_units(["健宝", "华为"])


@pytest.mark.parametrize(
    "text",
    [
        "深圳市华为技术有限公司",
        "TCL科技 (惠州) 3M",
        "a-b_c 12 华",
        "",
        " ",
        "x" * 300,
        "ＴＣＬ科技",
    ],
)
def test_plain_text_takes_a_shortcut_to_the_same_units_and_tokens(text: str) -> None:
    assert _analysed(text) == _analysed_any(text)
