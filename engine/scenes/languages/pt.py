"""Portuguese (Brazil): noun, colour, size, agreeing in gender and number; "two" agrees too
(dois círculos vermelhos, duas estrelas azuis; laranja is invariable)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, noun_then_adjectives, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "pt", "Portuguese", "Latn"

NOUNS = {"circle": ("m", "círculo"), "square": ("m", "quadrado"), "triangle": ("m", "triângulo"), "star": ("f", "estrela"), "diamond": ("m", "losango")}
ADJECTIVES = {  # masculine singular, feminine singular, masculine plural, feminine plural
    "red": ("vermelho", "vermelha", "vermelhos", "vermelhas"),
    "orange": ("laranja", "laranja", "laranja", "laranja"),
    "yellow": ("amarelo", "amarela", "amarelos", "amarelas"),
    "green": ("verde", "verde", "verdes", "verdes"),
    "blue": ("azul", "azul", "azuis", "azuis"),
    "purple": ("roxo", "roxa", "roxos", "roxas"),
    "small": ("pequeno", "pequena", "pequenos", "pequenas"),
    "large": ("grande", "grande", "grandes", "grandes"),
}
ARTICLES = {("m", 1): "um", ("f", 1): "uma", ("m", 2): "dois", ("f", 2): "duas", ("m", 3): "três", ("f", 3): "três"}
POSITIONS = {"left": "à esquerda", "right": "à direita", "top": "em cima", "bottom": "embaixo", "middle": "no centro"}
BACKGROUNDS = {"white": "branco", "gray": "cinza", "black": "preto"}


def caption(spec: CaptionSpec) -> str:
    phrases = [words(noun_then_adjectives(g, NOUNS, ADJECTIVES, ARTICLES), POSITIONS.get(g.position)) for g in groups(spec)]
    text = join_list(phrases, ", ", " e ")
    if spec.background:
        text += f" sobre fundo {BACKGROUNDS[spec.background]}"
    return text
