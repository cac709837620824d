"""Spanish: noun, then colour, then size, agreeing in gender and number
(un círculo rojo pequeño, una estrella azul grande, dos estrellas amarillas)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, noun_then_adjectives, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "es", "Spanish", "Latn"

NOUNS = {"circle": ("m", "círculo"), "square": ("m", "cuadrado"), "triangle": ("m", "triángulo"), "star": ("f", "estrella"), "diamond": ("m", "rombo")}
ADJECTIVES = {  # masculine singular, feminine singular, masculine plural, feminine plural
    "red": ("rojo", "roja", "rojos", "rojas"),
    "orange": ("naranja", "naranja", "naranjas", "naranjas"),
    "yellow": ("amarillo", "amarilla", "amarillos", "amarillas"),
    "green": ("verde", "verde", "verdes", "verdes"),
    "blue": ("azul", "azul", "azules", "azules"),
    "purple": ("morado", "morada", "morados", "moradas"),
    "small": ("pequeño", "pequeña", "pequeños", "pequeñas"),
    "large": ("grande", "grande", "grandes", "grandes"),
}
ARTICLES = {("m", 1): "un", ("f", 1): "una", ("m", 2): "dos", ("f", 2): "dos", ("m", 3): "tres", ("f", 3): "tres"}
POSITIONS = {"left": "a la izquierda", "right": "a la derecha", "top": "arriba", "bottom": "abajo", "middle": "en el centro"}
BACKGROUNDS = {"white": "blanco", "gray": "gris", "black": "negro"}


def caption(spec: CaptionSpec) -> str:
    phrases = [words(noun_then_adjectives(g, NOUNS, ADJECTIVES, ARTICLES), POSITIONS.get(g.position)) for g in groups(spec)]
    text = join_list(phrases, ", ", " y ")
    if spec.background:
        text += f" sobre fondo {BACKGROUNDS[spec.background]}"
    return text
