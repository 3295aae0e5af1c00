"""The one tokenizer: units, index tokens, query phrases."""

from __future__ import annotations

import gc
import sys
import tracemalloc

import pytest

from search.tokenize import (
    CACHE,
    CACHE_BYTES,
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


def test_consecutive_cjk_units_make_a_bigram_even_apart() -> None:
    # The phrase 华为 occurs in 华-为 (its units follow each other), so the bigram is a token:
    # the tokens of a phrase are in every value that holds it.
    assert index_tokens("华-为 TCL·科技") == ["tcl", "为", "华", "华为", "技", "科", "科技"]
    assert _analysed("华-为") == _analysed_any("华-为")


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


def _bytes(entry: tuple[str, tuple[tuple[str, ...], frozenset[str]]]) -> int:
    """What an entry really holds, string by string."""
    text, (found, tokens) = entry
    strings = [text, *found, *tokens]
    return sum(map(sys.getsizeof, strings)) + sys.getsizeof(found) + sys.getsizeof(tokens)


def _long_values(count: int) -> list[str]:
    """Distinct long values such as hazards (about 16 KB analysed each, counted high)."""
    return [
        f"第{n}批次产品在高温环境下连续使用时电池可能过热鼓包并引发火灾，存在安全隐患，请立即停止使用"
        for n in range(count)
    ]


def test_the_cache_stays_under_its_byte_bound() -> None:
    # given: more distinct long values than fit
    CACHE.clear()
    texts = _long_values(8000)

    # when: each is analysed (and used again, as a document does)
    for text in texts:
        assert index_tokens(text) == index_tokens(text)

    # then: the cache holds what fits in its bytes, counting more than the entries hold
    assert CACHE.maxsize == CACHE_BYTES == 32 * 2**20
    assert CACHE_BYTES / 2 < CACHE.currsize <= CACHE_BYTES
    assert len(CACHE) < len(texts)
    assert sum(_bytes(entry) for entry in CACHE.values()) < CACHE.currsize
    # the most recent ones are the ones kept
    assert texts[-1] in CACHE
    assert texts[0] not in CACHE


def test_the_memory_the_tokenizer_keeps_is_bounded() -> None:
    # given: an empty cache, and values that would keep about 80 MB if all were kept
    CACHE.clear()
    texts = _long_values(5000)
    gc.collect()
    tracemalloc.start()
    try:
        # when: each is analysed
        for text in texts:
            index_tokens(text)
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then: what stays allocated is within the cache's bound
    assert kept < CACHE_BYTES
