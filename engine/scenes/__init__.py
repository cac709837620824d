"""The built-in multilingual scene collection: shapes on backgrounds, captioned in 18 languages.

It ships with the package (no download, no research licence), so a fresh clone can train and
demonstrate retrieval in Arabic, Hindi, Thai or Japanese within minutes. `scene` is the data,
`draw` the picture, `spec` what a caption says and when a picture matches it, `languages` the
sentences, `examples` the streams the trainer and the demo read.
"""

from engine.scenes.draw import draw_scene
from engine.scenes.examples import Example, examples, queries
from engine.scenes.languages import LANGUAGES, caption
from engine.scenes.scene import Scene, SceneObject, random_scene, random_scenes
from engine.scenes.spec import CaptionSpec, Mention, describe, full_spec, satisfies

__all__ = [
    "LANGUAGES",
    "CaptionSpec",
    "Example",
    "Mention",
    "Scene",
    "SceneObject",
    "caption",
    "describe",
    "draw_scene",
    "examples",
    "full_spec",
    "queries",
    "random_scene",
    "random_scenes",
    "satisfies",
]
