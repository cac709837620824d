"""UAX #9 levels on the standard's own examples, and L2 reordering."""
import pytest

from engine.render.bidi import needs_bidi, paragraph_levels, visual_order

# Upper-case Latin letters in the standard's examples stand for right-to-left letters.
RTL = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "אבגדהוזחטיכלמנסעפצקרשתאבגד")


@pytest.mark.parametrize("text, base, levels", [
    # N0 examples 1-3 (UAX #9, section 3.3.5)
    ("AB(CD[&ef]!)gh", 1, [1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 2]),
    ("smith (fabrikam ARABIC) HEBREW", 0, [0] * 16 + [1] * 6 + [0] * 2 + [1] * 6),
    ("ARABIC book(s)", 1, [1] * 7 + [2] * 7),
    # numbers: European digits after R are raised to 2, Arabic digits likewise in LTR text
    ("AB 12 CD", 1, [1, 1, 1, 2, 2, 1, 1, 1]),
    ("ab ١٢ cd", 0, [0, 0, 0, 2, 2, 0, 0, 0]),
    # isolates: the isolate's content does not decide the paragraph direction (P2 skips it)
    ("\u2067ABC\u2069 def", 0, [0, 1, 1, 1, 0, 0, 0, 0, 0]),
    ("\u2068abc\u2069 DEF", 1, [1, 2, 2, 2, 1, 1, 1, 1, 1]),
    # override: Latin letters forced right-to-left
    ("\u202eabc\u202c", 0, [0, 1, 1, 1, 1]),
])
def test_standard_examples(text, base, levels):
    text = text.translate(RTL) if any(c.isupper() for c in text) else text
    resolved_base, resolved = paragraph_levels(text)
    assert resolved_base == base
    assert resolved == levels


def test_visual_order_reverses_from_the_highest_level_down():
    assert visual_order([0, 0, 0]) == [0, 1, 2]
    assert visual_order([1, 1, 1]) == [2, 1, 0]
    assert visual_order([1, 2, 2, 1]) == [3, 1, 2, 0]  # numbers inside RTL keep their order
    assert visual_order([0, 1, 1, 0, 2]) == [0, 2, 1, 3, 4]


def test_only_right_to_left_text_pays_for_bidi():
    assert not needs_bidi("plain English, 123, 日本語")
    assert needs_bidi("שלום") and needs_bidi("abc \u202e") and needs_bidi("٣")


def test_deep_nesting_is_bounded():
    text = "\u202b" * 200 + "x" + "\u202c" * 200 + "\u2067" * 200 + "y"
    base, levels = paragraph_levels(text)
    assert base == 0 and max(levels) <= 126


def reference_levels(text):
    """python-bidi's pure-Python UAX #9 (the pre-6.3 rules: no isolates, no bracket pairs)."""
    from bidi import algorithm as uax9

    base = uax9.get_base_level(text)
    storage = uax9.get_empty_storage()
    storage["base_level"], storage["base_dir"] = base, ("L", "R")[base]
    uax9.get_embedding_levels(text, storage)
    chars = list(storage["chars"])
    uax9.explicit_embed_and_overrides(storage)
    uax9.resolve_weak_types(storage)
    uax9.resolve_neutral_types(storage, False)
    uax9.resolve_implicit_levels(storage, False)
    return base, [c["level"] for c in chars if c["type"] not in uax9.X9_REMOVED]


def test_agrees_with_the_reference_implementation_where_the_rules_coincide():
    import random

    alphabet = list("abאבعم12٣٤ -+,.$%!#/:\u0301\u06f1") + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                                            "\u200e", "\u200f"]
    removed = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e"}
    generator = random.Random(0)
    for _ in range(3000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 12)))
        base, levels = paragraph_levels(text)
        kept = [level for level, ch in zip(levels, text) if ch not in removed]
        assert (base, kept) == reference_levels(text), repr(text)
