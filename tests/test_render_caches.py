"""Every renderer cache keeps its stated bound under hostile input, its byte accounting is
honest, and what it holds is invisible to the garbage collector (whose full passes over cached
objects were the 0.1-18 s stalls of docs/rendering.md)."""

import gc
import sys

import numpy as np

import engine.render.fonts as fonts
import engine.render.renderer as renderer_module
import engine.render.text as text_module
from benchmarks.fuzz_render import corpus
from engine.render import RenderConfig
from engine.render.cache import LruCache
from engine.render.renderer import Renderer

SMALL = RenderConfig(64, 64, 8, 4)
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์ สี่เหลี่ยมจัตุรัส",
    "مرحبا بالعالم، هذا نص عربي مع 123 أرقام",
    "日本語の文章と한국어 문장과 中文句子。",
    "नमस्ते दुनिया, यह हिन्दी है।",
    "👩🏽‍💻 🏳️‍🌈 🇺🇳 #️⃣",
]


def test_every_cache_stays_within_its_bound_under_fuzzed_input(monkeypatch):
    monkeypatch.setattr(renderer_module, "STRIP_CACHE_BYTES", 96 * 1024)
    monkeypatch.setattr(renderer_module, "UNIT_CACHE_BYTES", 48 * 1024)
    monkeypatch.setattr(renderer_module, "HELD_LIMIT", 300)
    monkeypatch.setattr(fonts, "CHOICE_CACHE_LIMIT", 60)
    monkeypatch.setattr(text_module, "CHAR_CACHE_LIMIT", 500)
    renderer = Renderer(SMALL)
    full = 0
    for _, text in corpus(700, seed=3):
        renderer.render(text)
        assert len(renderer._held) <= 300
        assert len(renderer.fonts._choices) <= 60
        assert len(text_module._INFO) <= 500
        strips = sum(renderer_module.STRIP_OVERHEAD + (0 if strip[1] is None else strip[1].nbytes) for strip in renderer._strips.values())
        assert renderer._strips.total == strips <= 96 * 1024  # the accounting is exact
        assert renderer._shaped_units.total == renderer_module.UNIT_OVERHEAD * len(renderer._shaped_units) <= 48 * 1024
        full += strips > 90 * 1024 and len(renderer._shaped_units) == 48 * 1024 // renderer_module.UNIT_OVERHEAD
    assert full > 100  # the bounds were reached, and held, call after call


def test_least_recently_used_entries_leave_first():
    cache = LruCache(budget=3, cost=len)
    cache.put("a", "x")
    cache.put("b", "x")
    cache.put("c", "x")
    assert cache.get("a") == "x"  # now the most recently used
    cache.put("d", "x")
    assert [key for key, _ in cache.items()] == ["c", "a", "d"] and cache.total == 3
    cache.put("e", "xxxx")  # alone over the budget: it does not stay either
    assert len(cache) == 0 and cache.total == 0


def test_the_strip_overhead_covers_the_python_objects_of_a_cached_strip():
    renderer = Renderer(RenderConfig())
    for text in TEXTS * 2:
        renderer.render(text)
    overheads = []
    for cache in (renderer._strips,):
        for key, strip in cache.items():
            paper = strip[1]
            size = sys.getsizeof(strip) + sys.getsizeof(strip[7]) + sys.getsizeof(key)
            size += sum(sys.getsizeof(part) for part in key if isinstance(part, str))
            if paper is not None:
                size += sys.getsizeof(paper) - paper.nbytes  # the array object (it owns its pixels)
                assert paper.base is None  # no hidden, larger buffer behind a view
            overheads.append(size + 3 * 8 * 3 // 2)  # a dict slot (hash, key, value) at 2/3 load
    assert len(overheads) > 100
    assert np.mean(overheads) <= renderer_module.STRIP_OVERHEAD


def test_the_unit_overhead_covers_the_python_objects_of_a_cached_unit():
    renderer = Renderer(RenderConfig())
    for text in TEXTS * 2:
        renderer.render(text)

    def size(value: object) -> int:  # tuples and strings, nested; ints are small and shared
        if isinstance(value, tuple):
            return sys.getsizeof(value) + sum(size(part) for part in value)
        return sys.getsizeof(value) if isinstance(value, str) else 0

    overheads = [size(key) + size(value) + 100 for key, value in renderer._shaped_units.items()]  # + an OrderedDict slot and link
    assert len(overheads) > 50
    assert np.mean(overheads) <= renderer_module.UNIT_OVERHEAD


def test_cached_entries_are_untracked_by_the_garbage_collector():
    renderer = Renderer(SMALL)
    for _, text in corpus(300, seed=5):
        renderer.render(text)
    for text in TEXTS:
        renderer.render(text)

    def tracked(value: object) -> int:
        if type(value) is not tuple:
            return 0
        return gc.is_tracked(value) + sum(tracked(part) for part in value)

    caches = (renderer._strips, renderer._shaped_units)
    entries = [item for cache in caches for item in cache.items()]
    assert len(entries) > 1000
    gc.collect()  # as the next automatic collection would (without held inner tuples: ~6,000 left)
    assert sum(tracked(key) + tracked(value) for key, value in entries) <= len(entries) // 1000
    gc.collect()
    assert sum(tracked(key) + tracked(value) for key, value in entries) == 0
    assert not any(gc.is_tracked(info) for info in text_module._INFO.values())
    assert all(type(index) is int for index in renderer.fonts._choices.values())


def test_font_files_are_read_once_per_process_whatever_the_sizes():
    sets = [Renderer(config).fonts for config in (RenderConfig(), SMALL, RenderConfig(112, 112, 10, 4))]
    for first, *others in zip(*(s.fonts for s in sets)):
        assert all(other.face is first.face for other in others)  # one FreeType face and cmap
        assert first.size != others[0].size
