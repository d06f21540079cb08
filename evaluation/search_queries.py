"""The search evaluation set: shopper queries written from the demo shop's catalogue, each with
a graded relevance for the products it should find, so search can be scored offline.

Search is judged with NDCG@10 and MRR, and both need to know, for a query, how good every
product is as an answer. A human-labelled set would be ideal and is not available; the demo
shop, however, composes every title and tag from `catalog_vocab` (brand, model number,
audience, modifiers, noun, colour), so a title can be read back into those parts and a query
written from them comes with a principled relevance judgement. Four kinds of query, in
roughly equal shares, probe different abilities:

* **exact** - a shopper who knows the product: brand + model number + noun when the title has
  a model number ("voltra vl-420 5g smartphone"), otherwise brand + modifiers + noun, now and
  then with the audience or the colour ("trailpeak waterproof trail running shoes black").
  Lexical search should shine here.
* **attribute** - no brand, just modifier(s) + noun ("noise-cancelling headphones").
* **paraphrase** - the same need in other words: the subcategory's name or a shopper's
  synonym from `SYNONYMS` ("mobile phones", "couch"), sometimes with a modifier. Semantic
  search should carry these.
* **typo** - an exact query with one realistic slip of the fingers in the brand or in its
  longest word; the fused search should still find the product.

Grades (absent = 0; the rules are the ones a shopper would apply to the results page):

* 3 - the product the query was written from (`SearchCase.target`), and any *twin*: a product
  of the same subcategory and brand that the query describes just as completely (same model
  number when the query names one, every attribute word in its tags, same colour when the
  query names one). A query that cannot tell two products apart must not punish a search
  that returns the other one first. Only exact and typo queries have grade 3.
* 2 - the same subcategory and every *attribute word* of the query in the product's tags.
  Attribute words are the tag slugs of the modifiers, noun words and audience the query
  uses (as `demo_shop.compose_tags` makes them); brand, model number and colour are not
  required. A paraphrase of the subcategory's name has no noun words, so the whole
  subcategory qualifies (filtered by the modifier when one is used).
* 1 - any other product of the same category (a neighbouring subcategory, or the same one
  without the attributes): a plausible but weaker result. Also, when the query names a noun,
  a product of *another* category whose tags hold every attribute word (a rattan corner sofa
  from the garden department for "corner sofa"): the query literally describes it, so a
  search that returns it has not made a mistake, although it is not what the shopper meant.

Products whose title cannot be read back (a subcategory or noun unknown to `catalog_vocab`)
are still graded, but no query is written from them. Cases whose grade-2-or-better set is
empty are skipped, and no query string (ignoring case) appears twice.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import text

from data import catalog_vocab as vocab
from data.demo_shop import compose_tags
from models.db import Database

KINDS = ("exact", "attribute", "paraphrase", "typo")
"""The kinds of query, in the order their cases are interleaved."""

GRADE_TARGET = 3.0
GRADE_MATCH = 2.0
GRADE_RELATED = 1.0

# How the queries vary: shoppers type a colour, an audience, or the brand's own capitals now
# and then, and combine modifiers less often than titles do.
COLOUR_RATE = 0.35  # an exact query (without a model number) ends with the colour
AUDIENCE_RATE = 0.25  # an exact or attribute query names the audience ("womens")
CASED_RATE = 0.2  # an exact query keeps the title's capitals for brand and model
BOTH_MODIFIERS_RATE = 0.3  # an attribute query uses both modifiers of a two-modifier title
SYNONYM_RATE = 0.75  # a paraphrase uses a synonym, when there is one, over the plain name
PARAPHRASE_MODIFIER_RATE = 0.4  # a paraphrase adds one of the product's modifiers
MIN_TYPO_LETTERS = 5  # only words this long get a typo: short ones become other words
ATTEMPTS_PER_CASE = 25  # give up on a kind after this many tries per case wanted

# What shoppers type for the catalogue's words. Keys are subcategory names or nouns of
# `catalog_vocab` in lower case, matched whole (so "monitor" never rewrites "baby monitor"),
# which is what keeps a synonym to the places where the catalogue really uses the word; a
# unit test checks every key against the vocabulary. Values are alternatives a shopper would
# use for the same need; none names a brand or an attribute the key does not imply.
SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # phones, accessories, computers
    "smartphones": ("mobile phones", "cell phones"),
    "smartphone": ("mobile phone", "cell phone"),
    "smartwatches": ("smart watches", "fitness watches"),
    "smartwatch": ("smart watch",),
    "fitness tracker": ("activity tracker", "fitness band"),
    "e-readers": ("ebook readers", "e-book readers"),
    "e-reader": ("ebook reader",),
    "phone cases": ("phone covers",),
    "phone case": ("phone cover",),
    "screen protectors": ("screen guards",),
    "screen protector": ("screen guard",),
    "chargers": ("phone chargers", "charging plugs"),
    "wall charger": ("plug charger", "mains charger"),
    "power banks": ("portable batteries", "backup batteries"),
    "power bank": ("portable battery",),
    "charging cables": ("charger leads", "phone cables"),
    "charging cable": ("charger lead",),
    "laptops": ("notebooks", "notebook computers"),
    "laptop": ("notebook", "notebook computer"),
    "desktops": ("desktop computers", "home computers"),
    "desktop pc": ("desktop computer",),
    "monitors": ("computer monitors", "computer screens"),
    "monitor": ("computer screen", "pc display"),
    "keyboards": ("computer keyboards",),
    "computer mice": ("computer mouse", "pc mice"),
    "external drives": ("external storage", "backup drives"),
    "external hard drive": ("external hdd", "usb hard drive"),
    "portable ssd": ("external ssd",),
    # audio, cameras, tv, gaming
    "earbuds": ("earphones", "in-ear headphones"),
    "true wireless earbuds": ("wireless earphones",),
    "bluetooth speakers": ("wireless speakers",),
    "bluetooth speaker": ("wireless speaker",),
    "soundbars": ("sound bars", "tv speakers"),
    "soundbar": ("sound bar",),
    "turntables": ("record players", "vinyl players"),
    "turntable": ("record player", "vinyl player"),
    "record player": ("turntable",),
    "bookshelf speakers": ("hifi speakers", "stereo speakers"),
    "mirrorless cameras": ("digital cameras", "system cameras"),
    "action cameras": ("sports cameras", "adventure cameras"),
    "action camera": ("sports camera",),
    "camera lenses": ("interchangeable lenses",),
    "tripods": ("camera stands",),
    "memory cards": ("storage cards",),
    "camera bags": ("camera cases", "photo bags"),
    "televisions": ("tvs", "tv sets"),
    "smart tv": ("smart television",),
    "4k tv": ("4k television", "ultra hd tv"),
    "projectors": ("home cinema projectors", "beamers"),
    "streaming devices": ("streaming sticks", "tv streamers"),
    "streaming stick": ("tv stick",),
    "tv mounts": ("tv brackets", "tv wall brackets"),
    "tv wall mount": ("tv wall bracket",),
    "game consoles": ("video game consoles", "gaming consoles"),
    "game console": ("gaming console", "video game console"),
    "controllers": ("game controllers", "gamepads"),
    "gamepad": ("game controller", "joypad"),
    "gaming headsets": ("gaming headphones",),
    "gaming headset": ("gaming headphones",),
    "gaming chairs": ("gamer chairs",),
    "capture cards": ("video capture cards",),
    # footwear, sportswear, outdoor, fitness, cycling
    "running shoes": ("running trainers", "jogging shoes"),
    "hiking boots": ("trekking shoes", "hill walking boots"),
    "sneakers": ("trainers", "casual shoes"),
    "trainers": ("sneakers",),
    "flip-flops": ("flip flops", "thongs"),
    "sliders": ("slides", "pool slides"),
    "dress shoes": ("formal shoes", "smart shoes"),
    "slippers": ("house shoes",),
    "sports socks": ("athletic socks", "gym socks"),
    "running shorts": ("jogging shorts", "gym shorts"),
    "training tops": ("gym tops", "workout shirts"),
    "training t-shirt": ("gym t-shirt", "workout tee"),
    "yoga leggings": ("yoga pants",),
    "rain jackets": ("waterproof jackets", "raincoats"),
    "rain jacket": ("raincoat", "waterproof coat"),
    "hoodies": ("hooded sweatshirts", "hooded jumpers"),
    "hoodie": ("hooded sweatshirt", "hooded top"),
    "tents": ("camping tents",),
    "sleeping mats": ("camping mats", "sleeping pads"),
    "sleeping mat": ("sleeping pad", "camping mat"),
    "backpacks": ("rucksacks",),
    "hiking backpack": ("hiking rucksack", "walking rucksack"),
    "camping stoves": ("camp stoves", "outdoor stoves"),
    "headlamps": ("head torches",),
    "headlamp": ("head torch", "head light"),
    "water bottles": ("drinks bottles", "reusable bottles"),
    "flask": ("thermos",),
    "yoga mats": ("exercise mats", "pilates mats"),
    "yoga mat": ("pilates mat",),
    "dumbbells": ("hand weights", "free weights"),
    "resistance bands": ("exercise bands", "workout bands"),
    "exercise bikes": ("stationary bikes", "indoor bikes"),
    "exercise bike": ("stationary bike", "indoor cycle"),
    "foam rollers": ("muscle rollers",),
    "treadmills": ("running machines",),
    "treadmill": ("running machine",),
    "bikes": ("bicycles", "cycles"),
    "road bike": ("road bicycle", "racing bike"),
    "mountain bike": ("mtb",),
    "e-bike": ("electric bike", "electric bicycle"),
    "bike helmets": ("cycling helmets", "bicycle helmets"),
    "bike helmet": ("cycle helmet", "bicycle helmet"),
    "bike lights": ("bicycle lights", "cycle lights"),
    "bike locks": ("bicycle locks", "cycle locks"),
    "bike pumps": ("bicycle pumps", "tyre pumps"),
    "cycling gloves": ("bike gloves",),
    # kitchen, appliances, coffee and tea
    "cookware sets": ("pots and pans", "cooking pots"),
    "frying pans": ("fry pans", "frypans"),
    "frying pan": ("fry pan", "frypan"),
    "chef knives": ("kitchen knives", "cooking knives"),
    "chef's knife": ("cooks knife", "kitchen knife"),
    "cutting boards": ("chopping boards",),
    "cutting board": ("chopping board",),
    "food storage": ("food containers", "tupperware"),
    "bakeware": ("baking tins", "oven trays"),
    "baking tray": ("baking sheet", "oven tray"),
    "coffee machines": ("coffee makers",),
    "espresso machine": ("espresso maker",),
    "filter coffee machine": ("drip coffee maker",),
    "pod coffee machine": ("capsule machine",),
    "blenders": ("smoothie makers", "liquidisers"),
    "blender": ("smoothie maker",),
    "air fryers": ("airfryers", "hot air fryers"),
    "air fryer": ("airfryer", "oil-free fryer"),
    "kettles": ("tea kettles",),
    "electric kettle": ("water boiler",),
    "toasters": ("bread toasters",),
    "stand mixers": ("food mixers", "kitchen mixers"),
    "stand mixer": ("food mixer",),
    "coffee beans": ("roasted coffee",),
    "ground coffee": ("pre-ground coffee",),
    "coffee capsules": ("capsule coffee", "espresso capsules"),
    "coffee pods": ("coffee capsules",),
    "loose leaf tea": ("leaf tea", "tea leaves"),
    "tea bags": ("teabags",),
    # home, bedding, lighting
    "sofas": ("couches", "settees"),
    "sofa": ("couch", "settee"),
    "office chairs": ("computer chairs", "work chairs"),
    "office chair": ("computer chair",),
    "desks": ("work desks", "home office desks"),
    "standing desk": ("sit-stand desk", "stand up desk"),
    "bookshelves": ("bookcases", "shelving units"),
    "bookshelf": ("shelving unit",),
    "bed frames": ("bed bases",),
    "coffee tables": ("living room tables", "lounge tables"),
    "duvets": ("quilts", "comforters"),
    "duvet": ("quilt", "comforter"),
    "pillows": ("bed pillows",),
    "bed sheets": ("bedding",),
    "bath towels": ("bathroom towels",),
    "throws & blankets": ("throw blankets",),
    "table lamps": ("bedside lights", "lamps"),
    "floor lamps": ("standing lamps", "standard lamps"),
    "floor lamp": ("standing lamp", "standard lamp"),
    "smart bulbs": ("smart light bulbs", "wifi bulbs"),
    "smart bulb": ("smart light bulb",),
    "ceiling lights": ("light fittings", "ceiling lamps"),
    "pendant light": ("hanging light",),
    "led strip lights": ("led strips", "light strips"),
    "desk lamps": ("study lamps", "reading lamps"),
    # tools, garden, beauty
    "cordless drills": ("power drills", "battery drills"),
    "cordless drill": ("power drill", "battery drill"),
    "impact drivers": ("impact screwdrivers",),
    "tool sets": ("toolkits", "hand tool sets"),
    "saws": ("power saws",),
    "tool batteries": ("power tool batteries", "drill batteries"),
    "tape measure": ("measuring tape",),
    "lawn mowers": ("lawnmowers", "grass cutters"),
    "lawn mower": ("lawnmower", "grass cutter"),
    "garden hoses": ("hosepipes", "water hoses"),
    "pruners": ("garden shears", "hand pruners"),
    "planters": ("plant pots", "flower pots"),
    "planter": ("plant pot", "flower pot"),
    "seeds": ("seed packets", "garden seeds"),
    "outdoor furniture": ("garden furniture", "patio furniture"),
    "face serums": ("facial serums", "skin serums"),
    "moisturisers": ("moisturizers",),
    "moisturiser": ("moisturizer", "face lotion"),
    "sunscreen": ("sunblock", "sun lotion"),
    "hair dryers": ("hairdryers", "blow dryers"),
    "hair dryer": ("hairdryer", "blow dryer"),
    "electric toothbrushes": ("power toothbrushes",),
    "trimmers & shavers": ("electric razors", "grooming kits"),
    "electric shaver": ("electric razor",),
    # baby, toys, pets, bags
    "pushchairs": ("prams", "buggies"),
    "pushchair": ("pram", "buggy"),
    "car seats": ("baby car seats", "child car seats"),
    "baby monitors": ("nursery monitors",),
    "baby bottles": ("feeding bottles",),
    "nappies": ("diapers",),
    "baby wipes": ("wet wipes",),
    "high chairs": ("feeding chairs", "highchairs"),
    "building sets": ("building blocks", "construction toys"),
    "brick set": ("building bricks",),
    "board games": ("family games", "tabletop games"),
    "jigsaw puzzles": ("picture puzzles",),
    "plush toys": ("stuffed animals", "stuffed toys"),
    "teddy bear": ("teddy",),
    "rc cars": ("remote control cars", "radio controlled cars"),
    "remote control car": ("rc car",),
    "dolls & action figures": ("dolls", "toy figures"),
    "dry dog food": ("dog kibble", "dog biscuits"),
    "dry cat food": ("cat kibble",),
    "dog beds": ("dog baskets", "pet beds"),
    "cat litter": ("kitty litter",),
    "pet toys": ("dog and cat toys",),
    "leashes & harnesses": ("dog leads", "leashes"),
    "dog lead": ("dog leash",),
    "suitcases": ("luggage", "travel cases"),
    "suitcase": ("travel case",),
    "cabin suitcase": ("carry-on luggage", "hand luggage"),
    "laptop bags": ("laptop cases", "computer bags"),
    "laptop backpack": ("computer backpack",),
    "travel accessories": ("travel essentials",),
    "travel adapter": ("plug adapter",),
    "neck pillow": ("travel pillow",),
    "duffel bags": ("duffle bags", "sports bags"),
    "gym bag": ("sports bag",),
    "wallets": ("billfolds", "card wallets"),
    "wallet": ("billfold",),
})


@dataclass(frozen=True)
class CatalogEntry:
    """The fields of a product that queries are written from and judged against."""

    product_id: str
    title: str
    brand: str
    category: str
    subcategory: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SearchCase:
    """One query with the graded relevance of the products it should find.

    `gains` maps product_id to grade (3 target or twin, 2 match, 1 related); a product not in
    it has grade 0. `target` is the product an exact or typo query was written from.
    """

    query: str
    kind: str
    gains: Mapping[str, float]
    target: str | None = None


# --- reading titles back -------------------------------------------------------------------

_SUBCATEGORIES: Mapping[str, vocab.Subcategory] = MappingProxyType(
    {s.name: s for c in vocab.CATEGORIES for s in c.subcategories}
)
_MODEL = re.compile(r"[A-Z]{1,2}-\d+")


@dataclass(frozen=True)
class _Parts:
    """A title read back into the vocabulary it was composed from."""

    model: str
    audience: str
    modifiers: tuple[str, ...]
    noun: str
    colour: str


def _split_modifiers(middle: str, modifiers: Sequence[str]) -> tuple[str, ...] | None:
    """`middle` as a run of distinct modifiers, or None; modifiers may hold spaces, so the
    longest that fits is tried first and the rest backtracks."""
    if not middle:
        return ()
    for modifier in sorted(modifiers, key=len, reverse=True):
        if middle == modifier or middle.startswith(modifier + " "):
            rest = _split_modifiers(middle[len(modifier):].lstrip(), modifiers)
            if rest is not None and modifier not in rest:
                return (modifier, *rest)
    return None


def _parse(entry: CatalogEntry) -> _Parts | None:
    """Undo `demo_shop.compose_title` with the subcategory's vocabulary; None when the title
    was not composed from it (a hand-made or imported product)."""
    sub = _SUBCATEGORIES.get(entry.subcategory)
    if sub is None or not entry.brand:
        return None
    head, _, extras = entry.title.partition(" — ")
    if not head.startswith(entry.brand + " "):
        return None
    rest = head[len(entry.brand) + 1:]
    first = extras.split(", ")[0] if extras else ""
    colour = first if first in sub.colours else ""
    model = ""
    word, _, after = rest.partition(" ")
    if sub.model_numbers and after and _MODEL.fullmatch(word):
        model, rest = word, after
    audience = ""
    for candidate in sub.audiences:
        if rest.startswith(candidate + " "):
            audience, rest = candidate, rest[len(candidate) + 1:]
            break
    nouns = [n for n in sub.nouns if rest == n or rest.endswith(" " + n)]
    for noun in sorted(nouns, key=len, reverse=True):
        modifiers = _split_modifiers(rest[: len(rest) - len(noun)].strip(), sub.modifiers)
        if modifiers is not None:
            return _Parts(model, audience, modifiers, noun, colour)
    return None


def _typed(phrase: str) -> str:
    """How a shopper types a phrase: lower case, no apostrophes ("Men's" → "mens")."""
    return " ".join(phrase.lower().replace("'", "").split())


# --- the catalogue, indexed for grading ----------------------------------------------------


class _Catalog:
    """The catalogue in product_id order with the lookups grading needs."""

    def __init__(self, entries: Sequence[CatalogEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.product_id)
        self.parts = [_parse(e) for e in self.entries]
        self.tags = [frozenset(e.tags) for e in self.entries]
        self.by_category: dict[str, list[int]] = {}
        self.by_subcategory: dict[tuple[str, str], list[int]] = {}
        self.by_tag: dict[str, set[int]] = {}
        for i, e in enumerate(self.entries):
            self.by_category.setdefault(e.category, []).append(i)
            self.by_subcategory.setdefault((e.category, e.subcategory), []).append(i)
            for tag in self.tags[i]:
                self.by_tag.setdefault(tag, set()).add(i)
        self.readable = [i for i, p in enumerate(self.parts) if p is not None]

    def gains(
        self,
        seed: int,
        attributes: tuple[str, ...],
        *,
        names_noun: bool,
        twin: Callable[[int], bool] | None = None,
    ) -> dict[str, float]:
        """Grades for a query written from product `seed` (see the module docstring).

        `attributes` are the tag slugs a match must carry; `names_noun` says whether they
        include the words of a noun (which lets other categories in at grade 1); `twin`, for
        exact queries, says which other products the query describes as completely.
        """
        entries, tags = self.entries, self.tags
        home = entries[seed]
        required = frozenset(attributes)
        ids = [entries[i].product_id for i in self.by_category[home.category]]
        grades = dict.fromkeys(ids, GRADE_RELATED)
        if names_noun and required:
            postings = sorted((self.by_tag.get(t, set()) for t in required), key=len)
            for i in sorted(postings[0].intersection(*postings[1:])):
                grades.setdefault(entries[i].product_id, GRADE_RELATED)
        for i in self.by_subcategory[(home.category, home.subcategory)]:
            if required <= tags[i]:
                grade = GRADE_TARGET if twin is not None and twin(i) else GRADE_MATCH
                grades[entries[i].product_id] = grade
        if twin is not None:
            grades[home.product_id] = GRADE_TARGET
        return grades


# --- writing queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """A query before it is checked: its text, what it asks for and how to grade it."""

    query: str
    attributes: tuple[str, ...]
    names_noun: bool
    twin: Callable[[int], bool] | None = None


def _exact(catalog: _Catalog, seed: int, rng: random.Random) -> _Draft:
    """Brand + model + noun, or brand + (audience) + modifiers + noun (+ colour)."""
    entry, parts = catalog.entries[seed], catalog.parts[seed]
    assert parts is not None
    cased = rng.random() < CASED_RATE
    brand = entry.brand if cased else _typed(entry.brand)
    colour = ""
    if parts.model:
        model = parts.model if cased else parts.model.lower()
        words = [brand, model, _typed(parts.noun)]
        attributes = compose_tags(parts.noun, ())
    else:
        audience = parts.audience if parts.audience and rng.random() < AUDIENCE_RATE else ""
        colour = parts.colour if parts.colour and rng.random() < COLOUR_RATE else ""
        words = [brand, _typed(audience), *map(_typed, parts.modifiers), _typed(parts.noun)]
        words.append(_typed(colour))
        attributes = compose_tags(parts.noun, parts.modifiers, audience)
    brand_key = entry.brand.lower()

    def twin(i: int) -> bool:
        other = catalog.parts[i]
        return (
            other is not None
            and catalog.entries[i].brand.lower() == brand_key
            and other.model == parts.model
            and (not colour or other.colour == colour)
        )

    return _Draft(" ".join(w for w in words if w), attributes, names_noun=True, twin=twin)


def _attribute(catalog: _Catalog, seed: int, rng: random.Random) -> _Draft | None:
    """(Audience) + modifier(s) + noun, without the brand; None for a title without
    modifiers."""
    parts = catalog.parts[seed]
    assert parts is not None
    if not parts.modifiers:
        return None
    if len(parts.modifiers) > 1 and rng.random() < BOTH_MODIFIERS_RATE:
        modifiers = parts.modifiers
    else:
        modifiers = (rng.choice(parts.modifiers),)
    audience = parts.audience if parts.audience and rng.random() < AUDIENCE_RATE else ""
    query = _typed(" ".join((audience, *modifiers, parts.noun)))
    return _Draft(query, compose_tags(parts.noun, modifiers, audience), names_noun=True)


def _paraphrase(catalog: _Catalog, seed: int, rng: random.Random) -> _Draft:
    """The subcategory's name or a synonym of it or of the product's noun, maybe with one of
    the product's modifiers.

    A synonym of the subcategory's name stands for the whole subcategory, so it asks for no
    tag; a synonym of the noun asks for the noun's words ("couch" wants "sofa").
    """
    entry, parts = catalog.entries[seed], catalog.parts[seed]
    assert parts is not None
    name = entry.subcategory.lower()
    # (phrase, whether it stands for the product's noun rather than the whole subcategory)
    options = [(s, False) for s in SYNONYMS.get(name, ())]
    options += [(s, True) for s in SYNONYMS.get(parts.noun.lower(), ())]
    if options and rng.random() < SYNONYM_RATE:
        phrase, names_noun = rng.choice(options)
    else:
        phrase, names_noun = name.replace("&", "and"), False
    modifiers: tuple[str, ...] = ()
    if parts.modifiers and rng.random() < PARAPHRASE_MODIFIER_RATE:
        modifiers = (rng.choice(parts.modifiers),)
        phrase = f"{modifiers[0]} {phrase}"
    attributes = compose_tags(parts.noun if names_noun else "", modifiers)
    return _Draft(_typed(phrase), attributes, names_noun=names_noun)


def misspell(word: str, rng: random.Random) -> str:
    """One realistic slip in `word`: two adjacent letters swapped, a letter dropped or a
    letter doubled. The first letter is left alone (people rarely get it wrong) and only
    letters move, so "usb-c" stays a word; returns `word` itself when it has no room."""
    edits: list[str] = []
    for i in range(1, len(word)):
        if not word[i].isalpha():
            continue
        edits.append(word[:i] + word[i + 1:])  # drop
        edits.append(word[:i] + word[i] + word[i:])  # double
        if i + 1 < len(word) and word[i + 1].isalpha() and word[i] != word[i + 1]:
            edits.append(word[:i] + word[i + 1] + word[i] + word[i + 2:])  # swap
    edits = [e for e in dict.fromkeys(edits) if e != word]
    return rng.choice(edits) if edits else word


def _typo(catalog: _Catalog, seed: int, rng: random.Random) -> _Draft | None:
    """An exact query with one typo in a brand word or in the longest word, either of at
    least `MIN_TYPO_LETTERS` letters; None when neither exists."""
    exact = _exact(catalog, seed, rng)
    words = exact.query.split(" ")
    n_brand = len(catalog.entries[seed].brand.split())
    long_enough = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= MIN_TYPO_LETTERS]
    if not long_enough:
        return None
    longest = max(long_enough, key=lambda i: (len(words[i]), -i))
    choices = sorted({longest, *(i for i in long_enough if i < n_brand)})
    at = rng.choice(choices)
    words[at] = misspell(words[at], rng)
    return _Draft(" ".join(words), exact.attributes, exact.names_noun, exact.twin)


_WRITERS: Mapping[str, Callable[[_Catalog, int, random.Random], _Draft | None]] = {
    "exact": _exact,
    "attribute": _attribute,
    "paraphrase": _paraphrase,
    "typo": _typo,
}


def search_cases(catalog: Sequence[CatalogEntry], n: int, seed: int) -> list[SearchCase]:
    """About `n` search cases written from `catalog`, the same ones for the same seed.

    The kinds take turns (exact, attribute, paraphrase, typo) so each gets a quarter; each
    case starts from a product drawn uniformly, so busy subcategories get more queries, as
    they do in a real shop. Fewer than `n` come back when the catalogue is too small to give
    that many distinct queries.
    """
    indexed = _Catalog(catalog)
    if n <= 0 or not indexed.readable:
        return []
    rng = random.Random(seed)
    quota = {kind: n // len(KINDS) + (k < n % len(KINDS)) for k, kind in enumerate(KINDS)}
    patience = {kind: ATTEMPTS_PER_CASE * wanted for kind, wanted in quota.items()}
    tries = dict.fromkeys(KINDS, 0)
    seen: set[str] = set()
    cases: list[SearchCase] = []
    while True:
        open_kinds = [k for k in KINDS if quota[k] > 0 and tries[k] < patience[k]]
        if not open_kinds:
            return cases
        for kind in open_kinds:
            tries[kind] += 1
            product = rng.choice(indexed.readable)
            draft = _WRITERS[kind](indexed, product, rng)
            if draft is None or draft.query.casefold() in seen:
                continue
            gains = indexed.gains(
                product, draft.attributes, names_noun=draft.names_noun, twin=draft.twin
            )
            if not any(g >= GRADE_MATCH for g in gains.values()):
                continue
            seen.add(draft.query.casefold())
            quota[kind] -= 1
            target = indexed.entries[product].product_id if draft.twin is not None else None
            cases.append(SearchCase(draft.query, kind, MappingProxyType(gains), target))


def load_catalog(database: Database) -> list[CatalogEntry]:
    """Every product's searchable fields, in product_id order: the only I/O of this module,
    so the generator itself can be tested without a database."""
    query = text(
        "SELECT product_id, title, brand, category, subcategory, tags"
        " FROM products ORDER BY product_id"
    )
    with database.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        CatalogEntry(
            product_id=str(r.product_id),
            title=str(r.title),
            brand=str(r.brand or ""),
            category=str(r.category),
            subcategory=str(r.subcategory or ""),
            tags=tuple(r.tags or ()),
        )
        for r in rows
    ]
