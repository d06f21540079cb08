"""The vocabulary of the synthetic demo shop: categories, subcategories, brands and the words
products are described with.

This module is data only; `data.demo_shop` composes titles, descriptions, tags and prices
from it. Products of one subcategory draw on one pool of nouns, modifiers, features, materials
and uses, so text similarity follows the taxonomy; brands carry a price tier that moves prices
and shows in descriptions; complements name other subcategories that are bought together.

Strings here end up in COPY text rows and in Postgres arrays: they hold no tabs, newlines or
backslashes (a unit test checks). Brand names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("budget", "mid", "premium")

# Multiplier on a subcategory's median price for each brand tier.
TIER_PRICE_FACTOR = {"budget": 0.65, "mid": 1.0, "premium": 1.6}

# Words a description uses for a tier, so that "premium headphones" means something to search.
TIER_WORDS = {
    "budget": ("affordable", "great-value", "everyday", "budget-friendly"),
    "mid": ("reliable", "versatile", "well-made", "dependable"),
    "premium": ("premium", "high-end", "professional-grade", "luxury"),
}


@dataclass(frozen=True)
class Subcategory:
    """One kind of product and the words that describe it.

    `median_price` is the typical price of the first variant from a mid-tier brand; prices
    spread lognormally around it with `price_sigma`. Variants (sizes, capacities, pack counts)
    each add `variant_step` times the median. `complements` name subcategories (anywhere in
    the catalogue) that shoppers add to the same basket.
    """

    name: str
    median_price: float
    nouns: tuple[str, ...]
    modifiers: tuple[str, ...]
    features: tuple[str, ...]
    materials: tuple[str, ...]
    uses: tuple[str, ...]
    audiences: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    variant_step: float = 0.2
    price_sigma: float = 0.3
    model_numbers: bool = False
    complements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    """A department: its subcategories, the brands that sell in it, and its season.

    Demand is multiplied by `1 + season_amplitude * cos(2π (day of year - peak) / 365)`,
    the peak being the middle of `season_peak_month`.
    """

    name: str
    brands: tuple[str, ...]
    season_peak_month: int
    season_amplitude: float
    subcategories: tuple[Subcategory, ...]


def _split(words: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in words.split("|") if w.strip())


def _sub(
    name: str,
    price: float,
    *,
    nouns: str,
    mods: str,
    feats: str,
    mats: str,
    uses: str,
    aud: str = "",
    colours: tuple[str, ...] = (),
    variants: str = "",
    step: float = 0.2,
    sigma: float = 0.3,
    model: bool = False,
    comps: str = "",
) -> Subcategory:
    return Subcategory(
        name=name,
        median_price=price,
        nouns=_split(nouns),
        modifiers=_split(mods),
        features=_split(feats),
        materials=_split(mats),
        uses=_split(uses),
        audiences=_split(aud),
        colours=colours,
        variants=_split(variants),
        variant_step=step,
        price_sigma=sigma,
        model_numbers=model,
        complements=_split(comps),
    )


TECH = ("Black", "Silver", "Graphite", "White", "Midnight Blue", "Space Grey")
TECH_BRIGHT = ("Black", "White", "Blue", "Red", "Green", "Pink", "Grey")
APPAREL = ("Black", "White", "Grey", "Navy", "Olive", "Red", "Blue", "Charcoal", "Sand")
OUTDOOR = ("Forest Green", "Black", "Orange", "Navy", "Olive", "Red", "Grey")
HOME = ("White", "Oak", "Walnut", "Charcoal", "Sage Green", "Cream", "Terracotta", "Slate Grey")
KITCHEN = ("Stainless Steel", "Black", "White", "Red", "Copper", "Cream")
BRIGHT = ("Red", "Blue", "Yellow", "Green", "Pink", "Purple", "Multicolour")

BRAND_TIERS: dict[str, str] = {
    # phones, accessories, computers, audio, TV
    "Voltra": "premium", "Nexon": "mid", "Orbi": "budget", "Kairo": "mid", "Lumina": "premium",
    "Zentel": "budget", "Pixelle": "mid", "Aerofone": "premium", "Gripwell": "mid",
    "ChargeLab": "mid", "Ampora": "budget", "Shieldex": "mid", "Tetra Power": "budget",
    "Arcbyte": "mid", "Quantix": "premium", "Helion": "premium", "Bitforge": "mid",
    "Sable Systems": "mid", "Cubix": "budget", "Keyforge": "mid", "Datacore": "mid",
    "Sonara": "premium", "Basswave": "budget", "Echofield": "mid", "Aurial": "premium",
    "Tonebox": "budget", "Fidelis": "mid",
    "Optiq": "premium", "Lensmark": "mid", "Fotonic": "mid", "Aperta": "premium",
    "Snapline": "budget", "Veyra": "mid", "Ridgeline": "mid",
    "Vistaro": "mid", "Panora": "budget", "Cinevo": "premium", "Streamly": "budget",
    "Mountix": "budget",
    "Playvo": "mid", "Questar": "premium", "Gamecore": "budget", "Throne Gear": "mid",
    "Pixelrush": "mid",
    # footwear, sport, outdoor, cycling
    "Trailpeak": "mid", "Stride & Co": "mid", "Nordhaven": "premium", "Pacer": "budget",
    "Summitra": "premium", "Solefit": "budget", "Oxbridge": "premium", "Kinetica": "mid",
    "Fleetfoot": "mid", "Motiva": "budget", "Aerowear": "premium", "Stormline": "mid",
    "Northbound": "premium", "Campora": "budget", "Embercraft": "mid", "Alpinist": "premium",
    "Ironform": "mid", "Flexa": "budget", "Zenmat": "mid", "Pulsecore": "premium",
    "Velomax": "premium", "Spokewise": "mid", "Cadenza": "premium", "Urbanride": "budget",
    "Lumeo": "mid", "Lockstead": "mid",
    # kitchen, appliances, coffee, home
    "Kitchara": "mid", "Ferroware": "premium", "Chefline": "mid", "Homely": "budget",
    "Copperleaf": "premium", "Bladecraft": "premium", "Freshbox": "budget",
    "Brewmaster": "premium", "Blendix": "mid", "Crispo": "budget", "Vapora": "mid",
    "Baristo": "premium",
    "Roastery Nine": "premium", "Bean & Co": "mid", "Morning Ritual": "budget",
    "Leafwell": "mid", "Highland Tea Co": "premium", "Daily Grind": "budget",
    "Oakhaus": "premium", "Nordby": "mid", "Loftline": "mid", "Comfora": "budget",
    "Sitwell": "mid", "Elmwood": "premium",
    "Dreamwell": "mid", "Cloudnest": "premium", "Linenry": "premium", "Softhaus": "mid",
    "Glowhaus": "mid", "Brightly": "budget", "Lampworks": "premium", "Halo Home": "mid",
    # tools, garden, beauty, baby, toys, pets, bags
    "Ironwood": "mid", "Torqon": "premium", "Buildpro": "mid", "Fixwell": "budget",
    "Steelhart": "premium", "Amperio": "mid",
    "Greenthumb": "budget", "Verdant": "mid", "Mowmaster": "premium", "Bloomfield": "mid",
    "Terraform": "premium",
    "Dermaglow": "mid", "Purely": "budget", "Aurelle": "premium", "Brightsmile": "mid",
    "Edgeline": "mid", "Botanica": "mid",
    "Tinysteps": "mid", "Cuddle & Co": "budget", "Nestling": "premium", "Safeseat": "mid",
    "Littlewing": "mid", "Babybloom": "budget",
    "Brickwise": "premium", "Tumble Toys": "budget", "Gamenight": "mid", "Puzzlecraft": "mid",
    "Speedzone": "mid",
    "Pawsome": "mid", "Happy Tails": "budget", "Whiskerly": "mid", "Barkwell": "premium",
    "Purrfect": "budget", "Alpha Paw": "premium",
    "Roamly": "mid", "Jetsetter": "premium", "Packwise": "budget", "Carryon Co": "mid",
}

CATEGORIES: tuple[Category, ...] = (
    Category(
        "Phones & Tablets",
        ("Voltra", "Nexon", "Orbi", "Kairo", "Lumina", "Zentel", "Pixelle", "Aerofone"),
        9, 0.15,
        (
            _sub("Smartphones", 549, nouns="Smartphone|5G Smartphone|Android Smartphone",
                 mods="Unlocked|Dual-SIM|Flagship|Compact|Rugged|Long-Battery",
                 feats="a 6.7-inch OLED display|a triple-lens camera with night mode|"
                       "an all-day 5000 mAh battery|65 W fast charging|"
                       "IP68 water and dust resistance|a 120 Hz refresh rate|"
                       "an in-display fingerprint reader",
                 mats="an aluminium frame|a toughened glass back|a recycled plastic frame|"
                      "a titanium frame",
                 uses="mobile photography|mobile gaming|everyday use|business travel|"
                      "streaming on the go",
                 colours=TECH, variants="128GB|256GB|512GB", step=0.15, model=True,
                 comps="Phone Cases|Screen Protectors|Chargers|Power Banks|Earbuds"),
            _sub("Tablets", 329, nouns="Tablet|Android Tablet|Kids Tablet",
                 mods="10-inch|12-inch|Lightweight|Wi-Fi|LTE|Pro",
                 feats="a 2K display|stylus support|quad speakers|a 12-hour battery|"
                       "split-screen multitasking|a USB-C port",
                 mats="an aluminium unibody|a magnesium alloy chassis|a rubberised shell",
                 uses="streaming films|note-taking|drawing|reading|homework",
                 colours=TECH, variants="64GB|128GB|256GB", step=0.15, model=True,
                 comps="Screen Protectors|Chargers|Keyboards"),
            _sub("Smartwatches", 229, nouns="Smartwatch|Fitness Tracker|GPS Sports Watch",
                 mods="Waterproof|GPS|AMOLED|Slim|Rugged|Solar",
                 feats="heart-rate and SpO2 sensors|built-in GPS|sleep tracking|"
                       "a 7-day battery|contactless payments|over 100 sport modes",
                 mats="a stainless-steel case|a silicone strap|a titanium bezel|"
                      "a nylon sport band",
                 uses="running|swimming|sleep tracking|everyday fitness|hiking",
                 colours=TECH, variants="41 mm|45 mm", step=0.08, model=True,
                 comps="Running Shoes|Chargers"),
            _sub("E-readers", 139, nouns="E-reader|E-ink Reader",
                 mods="Glare-Free|Waterproof|Backlit|Compact|Colour",
                 feats="a 300 ppi e-ink screen|adjustable warm light|weeks of battery life|"
                       "32 GB of storage|page-turn buttons",
                 mats="a soft-touch back|recycled plastic|an aluminium frame",
                 uses="reading in bed|travel|reading by the pool|commuting",
                 colours=TECH, model=True, comps="Screen Protectors|Chargers"),
        ),
    ),
    Category(
        "Phone Accessories",
        ("Voltra", "Orbi", "Gripwell", "ChargeLab", "Ampora", "Shieldex", "Tetra Power", "Kairo"),
        12, 0.05,
        (
            _sub("Phone Cases", 19, nouns="Phone Case|Protective Case|Wallet Case|Bumper Case",
                 mods="Shockproof|Slim|Clear|Magnetic|Rugged|Leather|Anti-Yellowing",
                 feats="raised edges that protect the camera|drop protection tested to 3 metres|"
                       "a wireless-charging friendly back|a non-slip grip|card slots|"
                       "precise button cut-outs",
                 mats="TPU|soft silicone|polycarbonate|vegan leather|recycled plastic",
                 uses="everyday protection|outdoor work|travel|the gym",
                 colours=TECH_BRIGHT, sigma=0.35, comps="Screen Protectors|Charging Cables"),
            _sub("Screen Protectors", 12,
                 nouns="Screen Protector|Tempered Glass Screen Protector|"
                       "Privacy Screen Protector",
                 mods="9H|Anti-Glare|Privacy|Bubble-Free|Edge-to-Edge|Blue-Light",
                 feats="an easy-install alignment frame|an oleophobic coating|"
                       "full touch sensitivity|case-friendly edges",
                 mats="tempered glass|PET film|hybrid glass",
                 uses="scratch protection|privacy in public|drop protection",
                 variants="1-Pack|2-Pack|3-Pack", step=0.3, comps="Phone Cases"),
            _sub("Chargers", 25,
                 nouns="USB-C Charger|Wall Charger|Wireless Charger|Car Charger|Charging Stand",
                 mods="65W|30W|Fast|GaN|Dual-Port|Compact|Magnetic",
                 feats="USB Power Delivery|smart power distribution|foldable plug pins|"
                       "overheat protection|an LED status light",
                 mats="fire-resistant polycarbonate|aluminium|silicone",
                 uses="laptops and phones|travel|the car|the bedside table",
                 colours=("Black", "White"), model=True, comps="Charging Cables|Power Banks"),
            _sub("Power Banks", 35, nouns="Power Bank|Portable Charger|Battery Pack",
                 mods="20000mAh|10000mAh|Slim|Fast-Charging|Solar|Magnetic",
                 feats="USB-C Power Delivery|pass-through charging|a digital charge display|"
                       "two USB-A ports|airline-safe capacity",
                 mats="an aluminium shell|a rubberised case|recycled plastic",
                 uses="travel|festivals|camping|long commutes",
                 colours=TECH, model=True, comps="Charging Cables"),
            _sub("Charging Cables", 11,
                 nouns="USB-C Cable|USB-C to Lightning Cable|Charging Cable|Data Cable",
                 mods="Braided|Fast-Charging|Right-Angle|Extra-Long|Magnetic",
                 feats="a 10,000-bend lifespan|100 W charging support|fast data transfer|"
                       "reinforced connectors",
                 mats="braided nylon|TPE|aramid fibre",
                 uses="everyday charging|the car|the office desk",
                 colours=("Black", "White", "Grey"), variants="1 m|2 m|3 m", step=0.2,
                 comps="Chargers"),
        ),
    ),
    Category(
        "Computers",
        ("Nexon", "Arcbyte", "Quantix", "Helion", "Bitforge", "Sable Systems", "Cubix",
         "Keyforge", "Lumina", "Datacore"),
        8, 0.2,
        (
            _sub("Laptops", 899, nouns="Laptop|Ultrabook|Gaming Laptop|2-in-1 Laptop",
                 mods="14-inch|16-inch|Thin and Light|Touchscreen|OLED|Business",
                 feats="a 12-core processor|a backlit keyboard|an all-day battery|"
                       "Thunderbolt 4 ports|a 1080p webcam with privacy shutter|"
                       "a 165 Hz display",
                 mats="an aluminium chassis|a magnesium alloy body|a recycled aluminium lid",
                 uses="work and study|gaming|video editing|business travel",
                 colours=("Silver", "Space Grey", "Black", "Midnight Blue"),
                 variants="8GB/256GB|16GB/512GB|32GB/1TB", step=0.25, model=True,
                 comps="Computer Mice|Laptop Bags|External Drives|Monitors"),
            _sub("Desktops", 799, nouns="Desktop PC|Mini PC|All-in-One PC|Gaming PC",
                 mods="Compact|Quiet|RGB|Tower|Workstation",
                 feats="a 16-core processor|a dedicated graphics card|Wi-Fi 6E|"
                       "tool-free upgrades|liquid cooling|plenty of USB ports",
                 mats="a steel case with a tempered-glass side|an aluminium enclosure",
                 uses="gaming|the home office|3D rendering|family use",
                 colours=("Black", "White", "Silver"),
                 variants="16GB/512GB|32GB/1TB|64GB/2TB", step=0.3, model=True,
                 comps="Monitors|Keyboards|Computer Mice"),
            _sub("Monitors", 279, nouns="Monitor|Gaming Monitor|Curved Monitor|Portable Monitor",
                 mods="27-inch|24-inch|32-inch|4K|144Hz|IPS|USB-C|Ultrawide",
                 feats="a height-adjustable stand|99% sRGB colour|a 1 ms response time|"
                       "a built-in KVM switch|a flicker-free backlight|HDR400 support",
                 mats="a slim metal stand|a matte anti-glare panel",
                 uses="gaming|photo editing|the home office|coding",
                 colours=("Black", "White", "Silver"), model=True,
                 comps="Keyboards|Computer Mice"),
            _sub("Keyboards", 69,
                 nouns="Mechanical Keyboard|Wireless Keyboard|Keyboard|Ergonomic Keyboard",
                 mods="Mechanical|Wireless|Backlit|Low-Profile|Split|Hot-Swappable|Tenkeyless",
                 feats="tactile brown switches|per-key RGB lighting|multi-device Bluetooth|"
                       "a detachable USB-C cable|a cushioned wrist rest",
                 mats="an aluminium top plate|PBT keycaps|ABS keycaps",
                 uses="typing|gaming|programming|the home office",
                 colours=("Black", "White", "Grey"), model=True, comps="Computer Mice"),
            _sub("Computer Mice", 39,
                 nouns="Wireless Mouse|Gaming Mouse|Ergonomic Mouse|Vertical Mouse",
                 mods="Wireless|Silent|Lightweight|Rechargeable|Ambidextrous",
                 feats="a 26,000 DPI sensor|silent clicks|multi-device pairing|"
                       "a 70-day battery|programmable side buttons",
                 mats="a soft-touch shell|a honeycomb shell|rubber side grips",
                 uses="gaming|office work|travel|design work",
                 colours=("Black", "White", "Grey", "Pink"), model=True, comps="Keyboards"),
            _sub("External Drives", 89, nouns="Portable SSD|External Hard Drive|NAS Drive",
                 mods="Rugged|USB-C|Encrypted|Pocket-Sized|High-Speed",
                 feats="transfer speeds up to 1,050 MB/s|hardware encryption|"
                       "automatic backup software|drop resistance up to 2 metres",
                 mats="an aluminium case|a rubber bumper",
                 uses="backups|video projects|game libraries|travel",
                 colours=("Black", "Grey", "Blue"), variants="500GB|1TB|2TB|4TB", step=0.4,
                 model=True),
        ),
    ),
    Category(
        "Audio",
        ("Sonara", "Basswave", "Echofield", "Voltra", "Aurial", "Tonebox", "Fidelis", "Kairo"),
        11, 0.1,
        (
            _sub("Headphones", 149,
                 nouns="Headphones|Over-Ear Headphones|On-Ear Headphones|Studio Headphones",
                 mods="Noise-Cancelling|Wireless|Foldable|Hi-Res|Bluetooth|Closed-Back",
                 feats="adaptive noise cancellation|a 40-hour battery|"
                       "memory-foam ear cushions|multipoint Bluetooth|a transparency mode|"
                       "a detachable cable",
                 mats="protein-leather ear pads|an aluminium headband|lightweight plastic",
                 uses="commuting|flights|studio monitoring|working from home",
                 colours=TECH, model=True),
            _sub("Earbuds", 89,
                 nouns="Earbuds|True Wireless Earbuds|Sport Earbuds|Open-Ear Earbuds",
                 mods="Noise-Cancelling|Waterproof|Wireless|Compact|Sweat-Resistant",
                 feats="a wireless charging case|ear-hook stability|touch controls|"
                       "a 30-hour total battery|a low-latency gaming mode",
                 mats="silicone ear tips|memory-foam tips|a matte finish",
                 uses="running|the gym|commuting|calls",
                 colours=TECH, model=True),
            _sub("Bluetooth Speakers", 79,
                 nouns="Bluetooth Speaker|Portable Speaker|Party Speaker",
                 mods="Waterproof|Rugged|360-Degree|Floating|Compact",
                 feats="IP67 waterproofing|a 20-hour battery|stereo pairing|"
                       "deep bass radiators|a built-in microphone",
                 mats="a fabric grille|a rubberised body|an aluminium shell",
                 uses="the beach|parties|camping|the shower",
                 colours=TECH_BRIGHT, model=True),
            _sub("Soundbars", 299,
                 nouns="Soundbar|Dolby Atmos Soundbar|Soundbar with Subwoofer",
                 mods="Wireless|3.1-Channel|5.1-Channel|Compact|Voice-Enhancing",
                 feats="a wireless subwoofer|HDMI eARC|a night mode|dialogue enhancement|"
                       "upward-firing drivers",
                 mats="an acoustic fabric grille|a metal grille|an MDF cabinet",
                 uses="films|sport|TV dialogue|music",
                 colours=("Black", "White"), model=True, comps="Televisions|TV Mounts"),
            _sub("Turntables", 249, nouns="Turntable|Record Player",
                 mods="Belt-Drive|Direct-Drive|Bluetooth|Vintage-Style|USB",
                 feats="a built-in phono preamp|a moving-magnet cartridge|"
                       "33 and 45 rpm speeds|an anti-skate control",
                 mats="a walnut plinth|an acrylic platter|an aluminium tonearm",
                 uses="vinyl collections|digitising records|the living room",
                 colours=("Black", "Walnut", "White", "Oak"), model=True,
                 comps="Bookshelf Speakers"),
            _sub("Bookshelf Speakers", 219,
                 nouns="Bookshelf Speakers|Powered Speakers|Studio Monitors",
                 mods="Active|Passive|Bluetooth|Compact|Hi-Fi",
                 feats="silk-dome tweeters|a built-in amplifier|an optical input|"
                       "rear bass ports",
                 mats="a wood-veneer cabinet|an MDF enclosure",
                 uses="the desk|hi-fi listening|home studios|TV sound",
                 colours=("Black", "Walnut", "White"), model=True, comps="Turntables"),
        ),
    ),
    Category(
        "Cameras",
        ("Optiq", "Lensmark", "Fotonic", "Aperta", "Snapline", "Veyra", "Ridgeline", "Datacore"),
        6, 0.15,
        (
            _sub("Mirrorless Cameras", 1099,
                 nouns="Mirrorless Camera|Mirrorless Camera Kit|Full-Frame Camera|"
                       "Vlogging Camera",
                 mods="Full-Frame|APS-C|4K|Weather-Sealed|Compact|Retro",
                 feats="a 24 MP sensor|in-body image stabilisation|fast hybrid autofocus|"
                       "a flip-out touchscreen|4K 60p video|dual card slots",
                 mats="a magnesium alloy body|a weather-sealed body|a textured grip",
                 uses="travel photography|portraits|vlogging|wildlife|street photography",
                 colours=("Black", "Silver"), model=True,
                 comps="Memory Cards|Camera Lenses|Tripods|Camera Bags"),
            _sub("Action Cameras", 299, nouns="Action Camera|Helmet Camera|360 Camera",
                 mods="Waterproof|5K|Stabilised|Mini|Rugged",
                 feats="horizon levelling|waterproofing to 10 metres|a front-facing screen|"
                       "voice control|live streaming",
                 mats="a rugged polycarbonate body|a magnetic mount",
                 uses="cycling|surfing|skiing|diving|travel",
                 colours=("Black", "Grey"), model=True, comps="Memory Cards"),
            _sub("Camera Lenses", 599,
                 nouns="Prime Lens|Zoom Lens|Telephoto Lens|Wide-Angle Lens|Macro Lens",
                 mods="Fast-Aperture|Stabilised|Weather-Sealed|Compact|Pro|Autofocus",
                 feats="fast silent autofocus|optical stabilisation|nano-coated elements|"
                       "a manual focus ring|an aperture ring",
                 mats="a metal mount|weather sealing|fluorine-coated glass",
                 uses="portraits|landscapes|sports|wildlife|product photography",
                 sigma=0.45, model=True, comps="Camera Bags"),
            _sub("Tripods", 79, nouns="Tripod|Travel Tripod|Tripod and Monopod|Mini Tripod",
                 mods="Carbon|Lightweight|Compact|Heavy-Duty|Fluid-Head",
                 feats="a ball head with a quick-release plate|twist leg locks|"
                       "a reversible centre column|a built-in spirit level",
                 mats="carbon fibre|aluminium|magnesium alloy",
                 uses="landscapes|long exposures|video|travel",
                 colours=("Black", "Grey")),
            _sub("Memory Cards", 27, nouns="SD Card|microSD Card|Memory Card|CFexpress Card",
                 mods="UHS-II|V30|V90|High-Speed|Endurance",
                 feats="read speeds up to 300 MB/s|sustained 4K video recording|"
                       "a waterproof and shockproof design|a limited lifetime warranty",
                 mats="a waterproof shell|an X-ray-proof casing",
                 uses="4K video|burst shooting|dash cams|drones",
                 variants="64GB|128GB|256GB|512GB", step=0.55, model=True),
            _sub("Camera Bags", 69, nouns="Camera Bag|Camera Backpack|Sling Bag|Camera Insert",
                 mods="Waterproof|Padded|Roll-Top|Compact|Travel",
                 feats="customisable padded dividers|quick side access|a laptop sleeve|"
                       "a rain cover|a tripod holder",
                 mats="recycled nylon|waxed canvas|weatherproof polyester",
                 uses="travel photography|hiking|city shoots|daily carry",
                 colours=OUTDOOR),
        ),
    ),
    Category(
        "TV & Home Cinema",
        ("Lumina", "Vistaro", "Panora", "Cinevo", "Sonara", "Streamly", "Mountix"),
        11, 0.25,
        (
            _sub("Televisions", 699, nouns="Smart TV|4K TV|OLED TV|QLED TV",
                 mods="4K|HDR|120Hz|Dolby Vision|Slim-Bezel|Ambient",
                 feats="a 120 Hz panel|Dolby Vision and HDR10+|a built-in streaming platform|"
                       "voice assistant support|four HDMI 2.1 ports|a low-latency game mode",
                 mats="a brushed-metal stand|a slim aluminium frame",
                 uses="films|sport|gaming|streaming",
                 colours=("Black", "Silver"), variants="43-inch|55-inch|65-inch|75-inch",
                 step=0.45, model=True, comps="Soundbars|TV Mounts|Streaming Devices"),
            _sub("Projectors", 449,
                 nouns="Projector|Mini Projector|Short-Throw Projector|4K Projector",
                 mods="Portable|Full HD|4K|Laser|Short-Throw",
                 feats="2,500 lumens of brightness|auto keystone correction|"
                       "a built-in speaker|HDMI and USB-C inputs|a 20,000-hour light source",
                 mats="a compact metal body|a fabric-wrapped body",
                 uses="home cinema|outdoor movie nights|presentations|gaming",
                 colours=("White", "Grey", "Black"), model=True, comps="Streaming Devices"),
            _sub("Streaming Devices", 49, nouns="Streaming Stick|Media Player|Streaming Box",
                 mods="4K|HDR|Voice-Controlled|Wi-Fi 6|Compact",
                 feats="a voice remote|Dolby Atmos audio|every major streaming app|"
                       "Wi-Fi 6 connectivity",
                 mats="a compact plastic housing|a matte finish",
                 uses="streaming films|older TVs|travel|hotel rooms",
                 colours=("Black",), model=True),
            _sub("TV Mounts", 39,
                 nouns="TV Wall Mount|Full-Motion TV Mount|TV Stand|Tilting TV Mount",
                 mods="Full-Motion|Tilting|Low-Profile|Heavy-Duty|Swivel",
                 feats="a 45 kg load rating|post-installation levelling|cable management clips|"
                       "a VESA-compatible bracket",
                 mats="cold-rolled steel|powder-coated steel|tempered glass shelves",
                 uses="living rooms|bedrooms|corner installation",
                 colours=("Black", "Silver")),
        ),
    ),
    Category(
        "Gaming",
        ("Playvo", "Questar", "Gamecore", "Basswave", "Throne Gear", "Pixelrush", "Arcbyte"),
        12, 0.3,
        (
            _sub("Game Consoles", 449, nouns="Game Console|Handheld Console|Console Bundle",
                 mods="Digital Edition|Handheld|4K|Slim|OLED",
                 feats="4K gaming at 120 fps|a 1 TB SSD|ray tracing|backward compatibility|"
                       "detachable controllers",
                 mats="a matte shell|a compact chassis",
                 uses="family gaming|competitive play|gaming on the go",
                 colours=("Black", "White"), model=True,
                 comps="Controllers|Gaming Headsets|Capture Cards"),
            _sub("Controllers", 59, nouns="Wireless Controller|Gamepad|Pro Controller",
                 mods="Wireless|Wired|Programmable|Elite|Ergonomic",
                 feats="hall-effect sticks|back paddles|rumble feedback|a 40-hour battery|"
                       "trigger stops",
                 mats="textured grips|a soft-touch finish",
                 uses="console gaming|PC gaming|couch co-op|racing games",
                 colours=TECH_BRIGHT, model=True),
            _sub("Gaming Headsets", 79, nouns="Gaming Headset|Wireless Gaming Headset",
                 mods="Wireless|Surround|Noise-Cancelling|Lightweight|RGB",
                 feats="a detachable boom microphone|7.1 surround sound|memory-foam cushions|"
                       "a 30-hour battery|an on-ear volume dial",
                 mats="a steel headband|breathable fabric ear pads",
                 uses="competitive play|team chat|long sessions|streaming",
                 colours=("Black", "White", "Red"), model=True),
            _sub("Gaming Chairs", 219,
                 nouns="Gaming Chair|Ergonomic Gaming Chair|Racing-Style Chair",
                 mods="Ergonomic|Reclining|Fabric|Big and Tall|Adjustable",
                 feats="4D armrests|adjustable lumbar support|a 160-degree recline|"
                       "a neck pillow|a reinforced steel frame",
                 mats="PU leather|breathable fabric|cold-cure foam",
                 uses="long gaming sessions|the home office|streaming setups",
                 colours=("Black", "Red", "Blue", "Grey", "Pink")),
            _sub("Capture Cards", 149,
                 nouns="Capture Card|Game Capture Device|Streaming Capture Card",
                 mods="4K60|USB-C|Low-Latency|External|Internal",
                 feats="4K HDR pass-through|a zero-lag preview|plug-and-play setup|"
                       "a party chat mixer",
                 mats="an aluminium housing|a compact plastic shell",
                 uses="streaming|recording gameplay|video calls",
                 colours=("Black",), model=True),
        ),
    ),
    Category(
        "Footwear",
        ("Trailpeak", "Stride & Co", "Nordhaven", "Pacer", "Summitra", "Solefit", "Oxbridge",
         "Kinetica"),
        9, 0.1,
        (
            _sub("Running Shoes", 109,
                 nouns="Running Shoes|Trail Running Shoes|Road Running Shoes|Racing Shoes",
                 mods="Waterproof|Lightweight|Cushioned|Breathable|Stability|Carbon-Plated|"
                      "Wide-Fit",
                 feats="a breathable mesh upper|a responsive foam midsole|"
                       "a grippy rubber outsole|reflective details|a rock plate|"
                       "a padded heel collar",
                 mats="engineered mesh|recycled polyester knit|ripstop nylon",
                 uses="trail running|road running|daily training|race day|marathon training",
                 aud="Men's|Women's", colours=APPAREL,
                 comps="Sports Socks|Running Shorts|Smartwatches"),
            _sub("Hiking Boots", 139,
                 nouns="Hiking Boots|Walking Boots|Hiking Shoes|Trekking Boots",
                 mods="Waterproof|Insulated|Lightweight|Mid-Cut|Leather|Lugged",
                 feats="a waterproof breathable membrane|a lugged rubber outsole|"
                       "a protective toe cap|a cushioned EVA midsole|a gusseted tongue",
                 mats="full-grain leather|suede and mesh|nubuck",
                 uses="hill walking|multi-day treks|muddy trails|winter hikes",
                 aud="Men's|Women's", colours=("Brown", "Black", "Grey", "Olive", "Tan"),
                 comps="Sports Socks|Backpacks"),
            _sub("Sneakers", 84,
                 nouns="Sneakers|Trainers|Low-Top Sneakers|High-Top Sneakers",
                 mods="Classic|Retro|Chunky|Slip-On|Leather|Canvas",
                 feats="a cushioned insole|a vulcanised rubber sole|a padded collar|"
                       "a removable footbed",
                 mats="canvas|smooth leather|suede|recycled materials",
                 uses="everyday wear|weekends|city walks|casual outfits",
                 aud="Men's|Women's|Kids'", colours=APPAREL),
            _sub("Sandals", 44, nouns="Sandals|Sliders|Flip-Flops|Hiking Sandals",
                 mods="Adjustable|Waterproof|Cushioned|Leather|Sport",
                 feats="a contoured footbed|adjustable straps|a quick-dry lining|"
                       "a grippy outsole",
                 mats="EVA foam|leather|recycled webbing|cork",
                 uses="the beach|summer holidays|river walks|the pool",
                 aud="Men's|Women's|Kids'", colours=APPAREL),
            _sub("Dress Shoes", 119, nouns="Oxford Shoes|Derby Shoes|Loafers|Chelsea Boots",
                 mods="Leather|Polished|Suede|Classic|Welted",
                 feats="a leather lining|a stacked heel|a cushioned insole|"
                       "a stitched leather sole",
                 mats="calf leather|polished leather|suede",
                 uses="the office|weddings|formal events|smart-casual outfits",
                 aud="Men's|Women's", colours=("Black", "Brown", "Tan", "Burgundy", "Navy")),
            _sub("Slippers", 29, nouns="Slippers|Moccasin Slippers|Slipper Boots",
                 mods="Memory-Foam|Fleece-Lined|Wool|Non-Slip",
                 feats="a memory-foam footbed|a non-slip sole|a warm fleece lining|"
                       "a washable insole",
                 mats="sheepskin|wool felt|faux fur|corduroy",
                 uses="lounging at home|cold mornings|gifts",
                 aud="Men's|Women's|Kids'", colours=APPAREL),
        ),
    ),
    Category(
        "Sportswear",
        ("Trailpeak", "Pacer", "Kinetica", "Fleetfoot", "Motiva", "Aerowear", "Stormline"),
        1, 0.1,
        (
            _sub("Sports Socks", 14,
                 nouns="Running Socks|Sports Socks|Hiking Socks|Compression Socks",
                 mods="Cushioned|Moisture-Wicking|Anti-Blister|Merino|Ankle|Crew",
                 feats="a seamless toe|arch support|targeted cushioning|odour control",
                 mats="merino wool|recycled nylon|a cotton blend|bamboo viscose",
                 uses="running|hiking|the gym|everyday wear",
                 aud="Men's|Women's|Unisex", colours=APPAREL, variants="3-Pack|6-Pack",
                 step=0.7, comps="Running Shoes"),
            _sub("Running Shorts", 34, nouns="Running Shorts|Training Shorts|2-in-1 Shorts",
                 mods="Lightweight|Quick-Dry|Lined|Reflective|Split-Hem",
                 feats="a zip back pocket|a built-in liner|reflective trims|"
                       "a drawcord waistband",
                 mats="recycled polyester|stretch woven fabric|nylon",
                 uses="running|the gym|hot-weather training|races",
                 aud="Men's|Women's", colours=APPAREL, comps="Training Tops|Sports Socks"),
            _sub("Training Tops", 29,
                 nouns="Training T-Shirt|Running Top|Long-Sleeve Base Layer|Tank Top",
                 mods="Breathable|Quick-Dry|Seamless|Thermal|Lightweight",
                 feats="flatlock seams|mesh ventilation panels|an anti-odour treatment|"
                       "reflective logos|thumb loops",
                 mats="recycled polyester|a merino blend|stretch jersey",
                 uses="running|gym sessions|yoga|cold-weather training",
                 aud="Men's|Women's", colours=APPAREL),
            _sub("Leggings", 44,
                 nouns="Leggings|Running Tights|Yoga Leggings|Training Tights",
                 mods="High-Waisted|Squat-Proof|Thermal|Seamless|Pocketed",
                 feats="a high waistband|side phone pockets|four-way stretch|"
                       "a brushed inner face",
                 mats="nylon-elastane|recycled polyester|brushed fleece",
                 uses="yoga|running|the gym|pilates",
                 aud="Women's|Men's", colours=APPAREL, comps="Yoga Mats"),
            _sub("Rain Jackets", 129,
                 nouns="Rain Jacket|Running Jacket|Windbreaker|Shell Jacket",
                 mods="Waterproof|Packable|Breathable|Hooded|Insulated|Windproof",
                 feats="fully taped seams|an adjustable hood|pit zips|a packable stuff pocket|"
                       "reflective details",
                 mats="2.5-layer waterproof fabric|ripstop nylon|recycled polyester",
                 uses="hiking|running in the rain|city commuting|festivals",
                 aud="Men's|Women's", colours=OUTDOOR),
            _sub("Hoodies", 54, nouns="Hoodie|Zip Hoodie|Fleece|Sweatshirt",
                 mods="Oversized|Fleece-Lined|Lightweight|Zip-Up|Organic",
                 feats="a kangaroo pocket|ribbed cuffs|a brushed interior|a drawcord hood",
                 mats="organic cotton|brushed fleece|recycled polyester",
                 uses="training|lounging|layering|warm-ups",
                 aud="Men's|Women's|Kids'", colours=APPAREL),
        ),
    ),
    Category(
        "Outdoor & Camping",
        ("Trailpeak", "Summitra", "Northbound", "Campora", "Ridgeline", "Embercraft", "Alpinist",
         "Stormline"),
        7, 0.35,
        (
            _sub("Tents", 219,
                 nouns="Tent|Backpacking Tent|Family Tent|Pop-Up Tent|Dome Tent",
                 mods="2-Person|4-Person|6-Person|Lightweight|Waterproof|Freestanding",
                 feats="a 3,000 mm waterproof flysheet|colour-coded poles|two porches|"
                       "a blackout inner|a 10-minute pitch",
                 mats="ripstop polyester|silicone-coated nylon|aluminium poles",
                 uses="backpacking|family camping|festivals|wild camping",
                 colours=OUTDOOR, sigma=0.4,
                 comps="Sleeping Bags|Sleeping Mats|Camping Stoves|Headlamps"),
            _sub("Sleeping Bags", 119,
                 nouns="Sleeping Bag|Mummy Sleeping Bag|Down Sleeping Bag|Kids Sleeping Bag",
                 mods="3-Season|4-Season|Lightweight|Compressible|Down|Synthetic",
                 feats="a comfort rating of 2 °C|a draught collar|a two-way zip|"
                       "a compression sack",
                 mats="duck down|synthetic fill|ripstop nylon",
                 uses="backpacking|family camping|festivals|winter camping",
                 colours=OUTDOOR, comps="Sleeping Mats"),
            _sub("Sleeping Mats", 69,
                 nouns="Sleeping Mat|Self-Inflating Mat|Camping Air Mattress",
                 mods="Insulated|Ultralight|Self-Inflating|Double|Compact",
                 feats="an R-value of 4.2|a built-in pump|a non-slip base|"
                       "a pack size like a water bottle",
                 mats="TPU-laminated nylon|open-cell foam|recycled polyester",
                 uses="backpacking|car camping|bikepacking",
                 colours=OUTDOOR),
            _sub("Backpacks", 109,
                 nouns="Hiking Backpack|Daypack|Trekking Rucksack|Hydration Pack",
                 mods="30L|45L|65L|Lightweight|Waterproof|Ventilated",
                 feats="a ventilated back panel|a hip belt with pockets|a rain cover|"
                       "hydration compatibility|trekking pole loops",
                 mats="recycled nylon|ripstop polyester|abrasion-resistant nylon",
                 uses="day hikes|multi-day treks|travel|commuting",
                 colours=OUTDOOR, comps="Water Bottles|Headlamps"),
            _sub("Camping Stoves", 69,
                 nouns="Camping Stove|Backpacking Stove|Stove System|Camping Grill",
                 mods="Compact|Windproof|Double-Burner|Piezo-Ignition|Ultralight",
                 feats="a piezo igniter|a wind shield|a boil time under 3 minutes|"
                       "a stable pot support",
                 mats="stainless steel|titanium|anodised aluminium",
                 uses="backpacking|car camping|festival cooking|emergency kits",
                 colours=("Silver", "Black", "Orange"), model=True),
            _sub("Headlamps", 34, nouns="Headlamp|Head Torch|Rechargeable Headlamp",
                 mods="Rechargeable|400-Lumen|Waterproof|Red-Light|Motion-Sensor",
                 feats="a red night-vision mode|USB-C charging|a tilting lamp head|"
                       "a lock mode",
                 mats="a lightweight polymer housing|a reflective headband",
                 uses="night hikes|camping|running in the dark|DIY jobs",
                 colours=OUTDOOR, model=True),
            _sub("Water Bottles", 24,
                 nouns="Insulated Water Bottle|Water Bottle|Hydration Bladder|Flask",
                 mods="Insulated|Leak-Proof|BPA-Free|Wide-Mouth|Collapsible",
                 feats="24 hours cold and 12 hours hot|a leak-proof lid|a carry loop|"
                       "dishwasher-safe parts",
                 mats="double-wall stainless steel|Tritan plastic|food-grade silicone",
                 uses="hiking|the gym|the office|school",
                 colours=OUTDOOR, variants="500 ml|750 ml|1 l", step=0.2),
        ),
    ),
    Category(
        "Fitness",
        ("Motiva", "Ironform", "Flexa", "Zenmat", "Pulsecore", "Kinetica"),
        1, 0.25,
        (
            _sub("Yoga Mats", 39, nouns="Yoga Mat|Exercise Mat|Travel Yoga Mat",
                 mods="Non-Slip|Extra-Thick|Eco-Friendly|Foldable|Alignment",
                 feats="alignment lines|a carry strap|a grippy textured surface|"
                       "6 mm of cushioning",
                 mats="natural rubber|TPE foam|cork|a PU top layer",
                 uses="yoga|pilates|home workouts|stretching",
                 colours=("Black", "Purple", "Sage Green", "Blue", "Pink", "Grey"),
                 comps="Foam Rollers|Resistance Bands"),
            _sub("Dumbbells", 89,
                 nouns="Adjustable Dumbbells|Dumbbell Set|Kettlebell|Hex Dumbbells",
                 mods="Adjustable|Rubber-Coated|Neoprene|Cast-Iron|Quick-Change",
                 feats="a quick-select dial|knurled handles|anti-roll hex heads|"
                       "a storage tray",
                 mats="cast iron|a rubber coating|neoprene|chrome-plated steel",
                 uses="home strength training|HIIT|rehab exercises",
                 colours=("Black", "Grey"), variants="5 kg|10 kg|20 kg|24 kg", step=0.5),
            _sub("Resistance Bands", 21,
                 nouns="Resistance Bands|Loop Bands|Pull-Up Bands|Resistance Tube Set",
                 mods="Fabric|Latex|Heavy|Anti-Snap|Progressive",
                 feats="five resistance levels|a door anchor|padded handles|a travel pouch",
                 mats="natural latex|woven fabric|TPE",
                 uses="glute training|physiotherapy|travel workouts|mobility"),
            _sub("Exercise Bikes", 549,
                 nouns="Exercise Bike|Spin Bike|Smart Bike|Recumbent Bike",
                 mods="Magnetic|Smart|Foldable|Quiet|Bluetooth",
                 feats="magnetic resistance|a tablet holder|app connectivity|"
                       "an adjustable saddle|a heavy flywheel",
                 mats="a steel frame|a belt drive",
                 uses="cardio at home|interval training|recovery rides",
                 colours=("Black", "White", "Grey"), model=True),
            _sub("Foam Rollers", 27,
                 nouns="Foam Roller|Massage Roller|Vibrating Foam Roller|Massage Ball Set",
                 mods="High-Density|Textured|Vibrating|Travel-Size",
                 feats="a textured surface|three vibration levels|a hollow core|"
                       "a massage guide",
                 mats="EVA foam|EPP foam|a rigid ABS core",
                 uses="post-run recovery|mobility work|muscle tension",
                 colours=("Black", "Blue", "Orange", "Pink")),
            _sub("Treadmills", 799,
                 nouns="Treadmill|Folding Treadmill|Walking Pad|Incline Treadmill",
                 mods="Folding|Incline|Quiet|Under-Desk|Smart",
                 feats="a 2.5 HP motor|12 preset programmes|auto incline|a cushioned deck|"
                       "Bluetooth speakers",
                 mats="a steel frame|a shock-absorbing deck",
                 uses="running at home|walking while working|interval training",
                 colours=("Black", "Grey"), model=True),
        ),
    ),
    Category(
        "Cycling",
        ("Velomax", "Spokewise", "Cadenza", "Urbanride", "Lumeo", "Lockstead", "Trailpeak"),
        6, 0.3,
        (
            _sub("Bikes", 899, nouns="Road Bike|Mountain Bike|Hybrid Bike|Gravel Bike|E-Bike",
                 mods="Aluminium|Carbon|Hardtail|Full-Suspension|Commuter|Lightweight",
                 feats="hydraulic disc brakes|a 12-speed drivetrain|tubeless-ready wheels|"
                       "internal cable routing|mudguard mounts",
                 mats="a 6061 aluminium frame|a carbon fibre frame|a chromoly steel frame",
                 uses="commuting|trail riding|long road rides|bikepacking",
                 colours=OUTDOOR, variants="S|M|L|XL", step=0.0, sigma=0.45,
                 comps="Bike Helmets|Bike Lights|Bike Locks|Bike Pumps"),
            _sub("Bike Helmets", 69,
                 nouns="Bike Helmet|Road Helmet|MTB Helmet|Kids Bike Helmet",
                 mods="Ventilated|Aero|Lightweight|Integrated-Light|Adjustable",
                 feats="a rotational impact protection liner|18 vents|a dial-fit system|"
                       "a removable visor|an integrated rear light",
                 mats="an in-moulded EPS shell|a polycarbonate shell",
                 uses="road cycling|mountain biking|commuting|e-bike riding",
                 colours=OUTDOOR, comps="Bike Lights|Cycling Gloves"),
            _sub("Bike Lights", 34,
                 nouns="Bike Light Set|Front Bike Light|Rear Bike Light",
                 mods="Rechargeable|1000-Lumen|Daytime-Visible|Waterproof|Smart",
                 feats="USB-C charging|a brake-sensing rear light|tool-free mounting|"
                       "six light modes",
                 mats="an aluminium body|a silicone strap",
                 uses="commuting|night rides|winter riding",
                 colours=("Black",), model=True),
            _sub("Bike Locks", 44, nouns="D-Lock|Folding Bike Lock|Chain Lock|Cable Lock",
                 mods="Heavy-Duty|High-Security|Lightweight|Keyed|Combination",
                 feats="a hardened steel shackle|a frame mount|two keys|"
                       "an anti-pick cylinder",
                 mats="hardened steel|a fabric sleeve|boron alloy",
                 uses="city commuting|e-bikes|overnight parking",
                 colours=("Black", "Yellow")),
            _sub("Bike Pumps", 29,
                 nouns="Floor Pump|Mini Pump|CO2 Inflator|Electric Bike Pump",
                 mods="High-Pressure|Compact|Digital|Dual-Head",
                 feats="a pressure gauge|Presta and Schrader heads|a frame mount|"
                       "160 psi capacity",
                 mats="an aluminium barrel|a steel base",
                 uses="road tyres|mountain bike tyres|roadside repairs",
                 colours=("Black", "Silver", "Red")),
            _sub("Cycling Gloves", 24,
                 nouns="Cycling Gloves|Fingerless Cycling Gloves|Winter Cycling Gloves",
                 mods="Padded|Touchscreen|Windproof|Breathable",
                 feats="gel palm padding|touchscreen fingertips|a terry thumb wipe|"
                       "reflective detailing",
                 mats="synthetic leather|stretch mesh|windproof softshell",
                 uses="road rides|mountain biking|winter commuting",
                 aud="Men's|Women's", colours=APPAREL),
        ),
    ),
    Category(
        "Kitchen",
        ("Kitchara", "Ferroware", "Chefline", "Homely", "Copperleaf", "Bladecraft", "Freshbox"),
        11, 0.1,
        (
            _sub("Cookware Sets", 179, nouns="Cookware Set|Pan Set|Saucepan Set",
                 mods="Non-Stick|Stainless Steel|Induction-Ready|Stackable|Ceramic",
                 feats="tempered glass lids|stay-cool handles|an induction base|"
                       "oven safety to 220 °C|dishwasher-safe pieces",
                 mats="tri-ply stainless steel|hard-anodised aluminium|"
                      "a ceramic non-stick coating|cast iron",
                 uses="everyday cooking|family meals|small kitchens",
                 colours=KITCHEN, variants="5-Piece|8-Piece|10-Piece", step=0.3,
                 comps="Chef Knives"),
            _sub("Frying Pans", 44, nouns="Frying Pan|Skillet|Wok|Griddle Pan",
                 mods="Non-Stick|Cast-Iron|Carbon-Steel|Induction-Ready|Deep",
                 feats="a PFOA-free coating|a riveted handle|a pouring lip|"
                       "even heat distribution",
                 mats="cast iron|carbon steel|forged aluminium|stainless steel",
                 uses="searing steaks|stir-frying|pancakes|everyday cooking",
                 colours=("Black", "Grey", "Copper", "Red"), variants="24 cm|28 cm|32 cm",
                 step=0.15),
            _sub("Chef Knives", 69,
                 nouns="Chef's Knife|Santoku Knife|Knife Block Set|Paring Knife",
                 mods="Damascus|Forged|Japanese-Style|Full-Tang|Ceramic",
                 feats="a 15-degree edge|a full-tang build|an ergonomic handle|"
                       "a protective sheath",
                 mats="German stainless steel|Damascus steel|VG10 steel|pakkawood",
                 uses="prepping vegetables|slicing meat|everyday cooking",
                 sigma=0.4, comps="Cutting Boards"),
            _sub("Cutting Boards", 29, nouns="Cutting Board|Chopping Board Set|Butcher Block",
                 mods="Reversible|End-Grain|Non-Slip|Dishwasher-Safe",
                 feats="a juice groove|non-slip feet|colour-coded boards|built-in handles",
                 mats="acacia wood|bamboo|walnut|polypropylene",
                 uses="meal prep|carving roasts|serving cheese",
                 comps="Chef Knives"),
            _sub("Food Storage", 24,
                 nouns="Food Storage Containers|Glass Meal Prep Containers|Vacuum Storage Set",
                 mods="Airtight|Leak-Proof|Stackable|Microwave-Safe|BPA-Free",
                 feats="snap-lock lids|stackable shapes|freezer-to-oven glass|date dials",
                 mats="borosilicate glass|BPA-free plastic|stainless steel",
                 uses="meal prep|leftovers|lunch boxes|pantry organisation",
                 variants="5-Piece|10-Piece|18-Piece", step=0.5),
            _sub("Bakeware", 29, nouns="Baking Tray|Cake Tin|Muffin Tray|Loaf Tin",
                 mods="Non-Stick|Springform|Heavy-Gauge|Silicone",
                 feats="a non-stick coating|a loose base|rolled edges|even browning",
                 mats="carbon steel|aluminised steel|silicone",
                 uses="baking bread|cakes|roasting vegetables",
                 colours=("Grey", "Black", "Red")),
        ),
    ),
    Category(
        "Small Appliances",
        ("Kitchara", "Brewmaster", "Blendix", "Homely", "Crispo", "Vapora", "Baristo"),
        11, 0.15,
        (
            _sub("Coffee Machines", 249,
                 nouns="Espresso Machine|Bean-to-Cup Coffee Machine|Filter Coffee Machine|"
                       "Pod Coffee Machine",
                 mods="Automatic|Compact|15-Bar|Programmable|Dual-Boiler",
                 feats="a steam wand for milk|a built-in grinder|a removable water tank|"
                       "programmable cup sizes|a descaling alert",
                 mats="a brushed stainless-steel body|a die-cast aluminium body",
                 uses="espresso at home|flat whites|busy mornings|the office",
                 colours=KITCHEN, sigma=0.45, model=True,
                 comps="Coffee Beans|Ground Coffee|Coffee Capsules"),
            _sub("Blenders", 89,
                 nouns="Blender|Personal Blender|High-Speed Blender|Hand Blender",
                 mods="High-Speed|Personal|Vacuum|Cordless|Professional",
                 feats="a 1,400 W motor|a pulse function|to-go cups|self-cleaning|"
                       "hardened steel blades",
                 mats="a Tritan jug|a glass jug|stainless steel",
                 uses="smoothies|soups|nut butters|crushing ice",
                 colours=KITCHEN, model=True),
            _sub("Air Fryers", 109, nouns="Air Fryer|Dual-Basket Air Fryer|Air Fryer Oven",
                 mods="Dual-Basket|Digital|Large|Compact|Smart",
                 feats="eight cooking presets|a dishwasher-safe basket|a viewing window|"
                       "a sync-finish mode",
                 mats="a non-stick basket|a stainless-steel finish",
                 uses="crispy chips|family meals|quick dinners",
                 colours=KITCHEN, variants="4 l|6 l|9 l", step=0.25, model=True),
            _sub("Kettles", 44,
                 nouns="Electric Kettle|Temperature-Control Kettle|Gooseneck Kettle",
                 mods="Rapid-Boil|Quiet|Cordless|Variable-Temperature|Glass",
                 feats="a keep-warm function|a limescale filter|a 1.7 l capacity|"
                       "boil-dry protection",
                 mats="brushed stainless steel|borosilicate glass|matte plastic",
                 uses="tea|pour-over coffee|instant meals",
                 colours=KITCHEN, model=True, comps="Loose Leaf Tea|Tea Bags"),
            _sub("Toasters", 49, nouns="Toaster|4-Slice Toaster|2-Slice Toaster",
                 mods="Wide-Slot|Digital|Retro|Long-Slot",
                 feats="a defrost setting|a bagel mode|a removable crumb tray|"
                       "seven browning levels",
                 mats="stainless steel|a matte finish",
                 uses="breakfast|bagels|crumpets",
                 colours=KITCHEN, model=True, comps="Kettles"),
            _sub("Stand Mixers", 299, nouns="Stand Mixer|Hand Mixer|Kitchen Machine",
                 mods="Tilt-Head|Planetary|Professional|Compact",
                 feats="a 5 l bowl|a dough hook and whisk|10 speed settings|a splash guard",
                 mats="die-cast metal|a stainless-steel bowl",
                 uses="bread dough|cakes|meringues",
                 colours=KITCHEN, model=True, comps="Bakeware"),
        ),
    ),
    Category(
        "Coffee & Tea",
        ("Baristo", "Roastery Nine", "Bean & Co", "Morning Ritual", "Leafwell",
         "Highland Tea Co", "Daily Grind"),
        11, 0.15,
        (
            _sub("Coffee Beans", 14, nouns="Coffee Beans|Whole Bean Coffee|Espresso Beans",
                 mods="Single-Origin|Dark Roast|Medium Roast|Light Roast|Organic|Decaf",
                 feats="notes of chocolate and hazelnut|bright citrus acidity|"
                       "a smooth caramel finish|a full body",
                 mats="100% arabica beans|an arabica and robusta blend",
                 uses="espresso|filter coffee|cafetière brewing",
                 variants="250 g|500 g|1 kg", step=0.9, sigma=0.25),
            _sub("Ground Coffee", 9, nouns="Ground Coffee|Filter Coffee|Cafetière Coffee",
                 mods="Medium Roast|Dark Roast|Organic|Fair-Trade|Decaf",
                 feats="a medium grind|notes of cocoa|a rich crema|a mellow finish",
                 mats="100% arabica coffee|a house blend",
                 uses="filter machines|cafetière brewing|stovetop pots",
                 variants="250 g|500 g|1 kg", step=0.9, sigma=0.25),
            _sub("Coffee Capsules", 8, nouns="Coffee Capsules|Coffee Pods|Espresso Pods",
                 mods="Compatible|Compostable|Intense|Lungo|Decaf",
                 feats="an intensity rating of 9|compostable capsules|a velvety crema|"
                       "a balanced roast",
                 mats="compostable plant-based capsules|aluminium capsules",
                 uses="pod machines|quick espressos|the office",
                 variants="10-Pack|30-Pack|50-Pack", step=1.5, sigma=0.25),
            _sub("Loose Leaf Tea", 12,
                 nouns="Loose Leaf Tea|Green Tea|Black Tea|Herbal Tea",
                 mods="Organic|Earl Grey|Sencha|Chai|Caffeine-Free",
                 feats="hand-picked leaves|notes of bergamot|a floral aroma|a malty depth",
                 mats="whole tea leaves|organic herbs",
                 uses="afternoon tea|morning brews|iced tea",
                 variants="100 g|250 g", step=1.0),
            _sub("Tea Bags", 5, nouns="Tea Bags|Pyramid Tea Bags|Herbal Infusion",
                 mods="English Breakfast|Peppermint|Camomile|Organic|Decaf",
                 feats="a strong malty cup|biodegradable bags|a refreshing finish|"
                       "a calming blend",
                 mats="plant-based tea bags|whole-leaf tea",
                 uses="builder's tea|bedtime|the office",
                 variants="40 Bags|80 Bags|240 Bags", step=0.8),
        ),
    ),
    Category(
        "Home Furniture",
        ("Oakhaus", "Nordby", "Loftline", "Comfora", "Sitwell", "Elmwood", "Homely"),
        1, 0.1,
        (
            _sub("Sofas", 899, nouns="Sofa|Corner Sofa|Sofa Bed|Loveseat",
                 mods="3-Seater|2-Seater|Velvet|Modular|Mid-Century",
                 feats="deep seat cushions|removable washable covers|solid wood legs|"
                       "a pull-out bed",
                 mats="velvet|boucle|linen-blend fabric|leather",
                 uses="the living room|small flats|family movie nights",
                 colours=HOME, sigma=0.4, comps="Coffee Tables|Throws & Blankets"),
            _sub("Office Chairs", 249,
                 nouns="Office Chair|Ergonomic Office Chair|Desk Chair",
                 mods="Ergonomic|Mesh|High-Back|Adjustable|Swivel",
                 feats="adjustable lumbar support|3D armrests|a synchronised tilt|"
                       "a breathable mesh back|a headrest",
                 mats="breathable mesh|bonded leather|an aluminium base",
                 uses="working from home|long office days|study",
                 colours=("Black", "Grey", "White"), comps="Desks"),
            _sub("Desks", 279, nouns="Standing Desk|Writing Desk|Corner Desk|Computer Desk",
                 mods="Height-Adjustable|Electric|Compact|L-Shaped|Solid Wood",
                 feats="a dual-motor lift|memory presets|a cable tray|"
                       "an anti-collision sensor",
                 mats="an oak veneer top|a solid walnut top|a steel frame|bamboo",
                 uses="the home office|small spaces|gaming setups",
                 colours=HOME, comps="Office Chairs|Monitors|Desk Lamps"),
            _sub("Bookshelves", 149, nouns="Bookshelf|Bookcase|Ladder Shelf|Wall Shelf",
                 mods="5-Tier|Industrial|Scandinavian|Wall-Mounted|Solid Wood",
                 feats="adjustable shelves|an anti-tip kit|a cubby design|easy assembly",
                 mats="solid pine|oak veneer|metal and wood|walnut veneer",
                 uses="living rooms|home offices|kids' rooms",
                 colours=HOME),
            _sub("Bed Frames", 449,
                 nouns="Bed Frame|Ottoman Bed|Upholstered Bed|Platform Bed",
                 mods="Double|King-Size|Storage|Upholstered|Solid Wood",
                 feats="under-bed storage|a padded headboard|sprung slats|"
                       "a gas-lift ottoman",
                 mats="solid oak|velvet upholstery|a metal frame|linen upholstery",
                 uses="the main bedroom|guest rooms|small bedrooms",
                 colours=HOME, comps="Mattresses"),
            _sub("Coffee Tables", 179, nouns="Coffee Table|Side Table|Nest of Tables",
                 mods="Round|Lift-Top|Marble-Effect|Solid Wood|Glass",
                 feats="a lift-up top|a storage shelf|rounded edges|a hidden drawer",
                 mats="solid oak|tempered glass|a marble-effect top|mango wood",
                 uses="the living room|small spaces|entertaining",
                 colours=HOME),
        ),
    ),
    Category(
        "Bedding & Bath",
        ("Dreamwell", "Cloudnest", "Nordby", "Comfora", "Linenry", "Softhaus"),
        10, 0.2,
        (
            _sub("Mattresses", 599,
                 nouns="Mattress|Memory Foam Mattress|Hybrid Mattress|Pocket Sprung Mattress",
                 mods="Medium-Firm|Firm|Cooling|Orthopaedic|Rolled",
                 feats="1,000 pocket springs|a cooling gel layer|edge support|"
                       "a removable washable cover|a 100-night trial",
                 mats="memory foam|pocket springs|natural latex|bamboo fabric",
                 uses="back sleepers|side sleepers|couples|guest rooms",
                 variants="Single|Double|King|Super King", step=0.2,
                 comps="Pillows|Bed Sheets|Duvets"),
            _sub("Duvets", 89,
                 nouns="Duvet|All-Seasons Duvet|Down Duvet|Hollowfibre Duvet",
                 mods="10.5 Tog|4.5 Tog|Anti-Allergy|Lightweight|Hotel-Quality",
                 feats="box-stitched construction|a cotton cover|machine-washable fill|"
                       "press-stud layers",
                 mats="goose down|hollowfibre|organic cotton|silk",
                 uses="winter nights|hot sleepers|allergy sufferers",
                 variants="Single|Double|King|Super King", step=0.2,
                 comps="Bed Sheets|Pillows"),
            _sub("Pillows", 39, nouns="Pillow|Memory Foam Pillow|Down Pillow|Pillow Pair",
                 mods="Firm|Soft|Anti-Allergy|Cooling|Orthopaedic",
                 feats="contoured neck support|adjustable fill|a breathable cover|"
                       "a hotel-quality feel",
                 mats="memory foam|duck feather|hollowfibre|a bamboo cover",
                 uses="side sleepers|back sleepers|neck pain"),
            _sub("Bed Sheets", 54,
                 nouns="Fitted Sheet|Bed Linen Set|Duvet Cover Set|Flat Sheet",
                 mods="400 Thread Count|Egyptian Cotton|Percale|Linen|Brushed Cotton",
                 feats="deep fitted corners|a hidden button closure|a crisp finish|"
                       "a soft brushed feel",
                 mats="Egyptian cotton|washed linen|bamboo lyocell|percale cotton",
                 uses="hot sleepers|guest beds|everyday use",
                 colours=HOME, variants="Single|Double|King", step=0.2),
            _sub("Bath Towels", 34, nouns="Bath Towel|Towel Bale|Bath Sheet|Hand Towel Set",
                 mods="Quick-Dry|Plush|Zero-Twist|Turkish|Organic",
                 feats="a 600 gsm weight|super absorbency|a hanging loop|a soft pile",
                 mats="Egyptian cotton|Turkish cotton|organic cotton|bamboo",
                 uses="the bathroom|the gym|the beach",
                 colours=HOME, variants="2-Pack|4-Pack|6-Pack", step=0.5),
            _sub("Throws & Blankets", 44,
                 nouns="Throw|Blanket|Weighted Blanket|Electric Blanket",
                 mods="Chunky Knit|Faux Fur|Sherpa|Weighted|Heated",
                 feats="a soft fleece reverse|tasselled edges|nine heat settings|"
                       "machine-washable fabric",
                 mats="faux fur|merino wool|cotton knit|microfleece",
                 uses="the sofa|chilly evenings|the bedroom",
                 colours=HOME),
        ),
    ),
    Category(
        "Lighting",
        ("Lumeo", "Glowhaus", "Brightly", "Lampworks", "Nordby", "Halo Home"),
        11, 0.2,
        (
            _sub("Table Lamps", 64, nouns="Table Lamp|Bedside Lamp|Touch Lamp",
                 mods="Dimmable|Ceramic|Rechargeable|Mushroom|Touch-Control",
                 feats="three brightness levels|a fabric shade|a USB charging port|"
                       "a warm white glow",
                 mats="ceramic|brass|rattan|frosted glass",
                 uses="bedside tables|living rooms|reading nooks",
                 colours=HOME, comps="Smart Bulbs"),
            _sub("Floor Lamps", 109,
                 nouns="Floor Lamp|Arc Floor Lamp|Tripod Floor Lamp|Uplighter",
                 mods="Arc|Dimmable|Tripod|Industrial|Scandinavian",
                 feats="a foot switch|an adjustable head|a weighted base|a linen shade",
                 mats="brushed brass|matte black steel|oak legs|a marble base",
                 uses="reading corners|living rooms|bedrooms",
                 colours=HOME, comps="Smart Bulbs"),
            _sub("Smart Bulbs", 21, nouns="Smart Bulb|Smart LED Bulb|Filament Smart Bulb",
                 mods="Colour-Changing|Dimmable|Wi-Fi|Tunable-White|Voice-Controlled",
                 feats="16 million colours|schedules and routines|voice assistant support|"
                       "no hub required",
                 mats="frosted glass|a vintage-style filament",
                 uses="mood lighting|bedtime routines|home automation",
                 variants="1-Pack|2-Pack|4-Pack", step=0.7, model=True),
            _sub("Ceiling Lights", 89,
                 nouns="Ceiling Light|Pendant Light|Flush Ceiling Light|Chandelier",
                 mods="Dimmable|LED|Rattan|Industrial|Globe",
                 feats="integrated LEDs|an adjustable drop|a remote control|"
                       "a warm-to-cool white setting",
                 mats="rattan|smoked glass|brushed brass|powder-coated steel",
                 uses="kitchens|dining rooms|hallways|bedrooms",
                 colours=HOME, sigma=0.4),
            _sub("LED Strip Lights", 29,
                 nouns="LED Strip Lights|Smart LED Strip|TV Backlight Strip",
                 mods="Smart|Music-Sync|Dimmable|Cuttable",
                 feats="app control|music sync|a self-adhesive backing|a remote control",
                 mats="a flexible circuit board|a silicone coating",
                 uses="TV backlighting|gaming rooms|kitchens|bedrooms",
                 variants="5 m|10 m|20 m", step=0.5, model=True),
            _sub("Desk Lamps", 44,
                 nouns="Desk Lamp|LED Desk Lamp|Architect Lamp|Clamp Lamp",
                 mods="Dimmable|Eye-Care|Adjustable|Wireless-Charging|Clamp-On",
                 feats="five colour temperatures|a wireless charging base|a flexible arm|"
                       "a memory function",
                 mats="aluminium|matte steel|ABS plastic",
                 uses="studying|the home office|crafts",
                 colours=("Black", "White", "Silver", "Brass")),
        ),
    ),
    Category(
        "Tools & DIY",
        ("Ironwood", "Torqon", "Buildpro", "Fixwell", "Steelhart", "Amperio"),
        4, 0.15,
        (
            _sub("Cordless Drills", 119,
                 nouns="Cordless Drill|Combi Drill|Drill Driver|Hammer Drill",
                 mods="18V|Brushless|Compact|Heavy-Duty|Two-Speed",
                 feats="a brushless motor|a 13 mm keyless chuck|an LED work light|"
                       "21 torque settings|two 2.0 Ah batteries",
                 mats="a rubber overmould grip|a metal gearbox",
                 uses="DIY projects|drilling masonry|assembling furniture|trade work",
                 model=True, comps="Drill Bits|Tool Batteries"),
            _sub("Impact Drivers", 139,
                 nouns="Impact Driver|Impact Wrench|Cordless Impact Driver",
                 mods="18V|Brushless|Compact|3-Speed",
                 feats="180 Nm of torque|a quick-release hex chuck|three speed modes|"
                       "a belt clip",
                 mats="a rubber overmould grip|a metal gearbox|a magnesium gear housing",
                 uses="decking|driving long screws|trade work|vehicle repairs",
                 model=True, comps="Drill Bits|Tool Batteries"),
            _sub("Drill Bits", 24,
                 nouns="Drill Bit Set|Screwdriver Bit Set|Masonry Drill Bits|Wood Drill Bits",
                 mods="Titanium-Coated|Cobalt|Impact-Rated|HSS",
                 feats="a storage case|colour-coded sizes|hex shanks|split-point tips",
                 mats="high-speed steel|cobalt steel|tungsten carbide",
                 uses="metal|wood|masonry|tiles",
                 variants="15-Piece|50-Piece|100-Piece", step=0.5, model=True),
            _sub("Tool Sets", 69, nouns="Tool Set|Socket Set|Screwdriver Set|Tool Kit",
                 mods="Mechanic's|Ratchet|Household|Professional|Insulated",
                 feats="a blow-moulded case|a 72-tooth ratchet|magnetic tips|"
                       "a lifetime warranty",
                 mats="chrome vanadium steel|S2 steel",
                 uses="car maintenance|household repairs|bike repairs",
                 variants="40-Piece|100-Piece|200-Piece", step=0.6),
            _sub("Saws", 149, nouns="Circular Saw|Jigsaw|Mitre Saw|Reciprocating Saw",
                 mods="Cordless|Brushless|Corded|Sliding|Plunge",
                 feats="a laser guide|bevel cuts up to 45 degrees|a dust extraction port|"
                       "a blade brake",
                 mats="a cast aluminium base|a carbide-tipped blade",
                 uses="cutting timber|laminate flooring|decking",
                 sigma=0.4, model=True, comps="Tool Batteries"),
            _sub("Tool Batteries", 79, nouns="18V Battery|Battery and Charger Kit|Fast Charger",
                 mods="5.0Ah|4.0Ah|2.0Ah|Fast-Charge|Compact",
                 feats="a charge level indicator|cell protection electronics|"
                       "compatibility with the whole 18V range|a fan-cooled charger",
                 mats="lithium-ion cells|a rubberised base",
                 uses="drills|saws|garden tools",
                 model=True),
            _sub("Measuring Tools", 39,
                 nouns="Laser Level|Tape Measure|Laser Distance Measurer|Stud Finder",
                 mods="Self-Levelling|Cross-Line|Magnetic|Digital",
                 feats="a 30 m range|a self-levelling pendulum|a magnetic base|"
                       "a backlit display",
                 mats="a rubber-armoured case|a steel blade",
                 uses="hanging pictures|tiling|fitting kitchens|framing walls",
                 sigma=0.45, model=True),
        ),
    ),
    Category(
        "Garden",
        ("Ironwood", "Greenthumb", "Verdant", "Mowmaster", "Bloomfield", "Terraform"),
        5, 0.45,
        (
            _sub("Lawn Mowers", 349,
                 nouns="Lawn Mower|Cordless Lawn Mower|Robot Lawn Mower|Petrol Lawn Mower",
                 mods="Cordless|Self-Propelled|Robotic|Mulching|Lightweight",
                 feats="a 40 cm cutting width|six cutting heights|a 45 l grass box|"
                       "a rear roller for stripes|app scheduling",
                 mats="a steel deck|a polypropylene deck",
                 uses="small lawns|large gardens|striped lawns",
                 colours=("Green", "Orange", "Red", "Black"), sigma=0.45, model=True,
                 comps="Tool Batteries"),
            _sub("Garden Hoses", 39,
                 nouns="Garden Hose|Expandable Hose|Hose Reel|Hose Pipe",
                 mods="Expandable|Kink-Free|Retractable|Heavy-Duty",
                 feats="a 10-pattern spray gun|brass fittings|a wall-mounted reel|"
                       "UV resistance",
                 mats="reinforced PVC|a latex core with a fabric cover|brass",
                 uses="watering beds|washing the car|cleaning the patio",
                 colours=("Green", "Grey", "Blue"), variants="15 m|30 m|50 m", step=0.35),
            _sub("Pruners", 29, nouns="Pruning Shears|Secateurs|Loppers|Hedge Shears",
                 mods="Bypass|Anvil|Ratchet|Telescopic|Ergonomic",
                 feats="a sap groove|a safety lock|shock-absorbing bumpers|"
                       "a 25 mm cutting capacity",
                 mats="SK5 steel blades|forged aluminium handles|a non-stick coating",
                 uses="roses|shrubs|fruit trees|hedges",
                 colours=("Red", "Orange", "Green", "Black")),
            _sub("Planters", 34,
                 nouns="Planter|Plant Pot Set|Raised Garden Bed|Hanging Basket",
                 mods="Self-Watering|Large|Indoor|Outdoor|Ceramic",
                 feats="drainage holes|a water-level indicator|frost resistance|a saucer",
                 mats="glazed ceramic|terracotta|fibreclay|galvanised steel",
                 uses="herbs|patio plants|houseplants|vegetables",
                 colours=HOME, comps="Seeds"),
            _sub("Seeds", 5,
                 nouns="Vegetable Seeds|Flower Seeds|Herb Seed Kit|Wildflower Seed Mix",
                 mods="Organic|Heirloom|Pollinator-Friendly|Easy-Grow",
                 feats="high germination rates|sowing instructions|resealable packets|"
                       "pollinator-friendly varieties",
                 mats="organic seed|peat-free compost discs",
                 uses="windowsills|raised beds|wildlife gardens|balconies",
                 sigma=0.35, comps="Planters"),
            _sub("Outdoor Furniture", 349,
                 nouns="Garden Dining Set|Bistro Set|Sun Lounger|Rattan Corner Sofa",
                 mods="Rattan|Teak|Foldable|Weatherproof|4-Seater",
                 feats="weather-resistant cushions|a parasol hole|rust-proof frames|"
                       "folding for storage",
                 mats="synthetic rattan|certified teak|powder-coated aluminium|acacia wood",
                 uses="patios|balconies|summer dining",
                 colours=("Grey", "Natural", "Black", "Brown"), sigma=0.45),
        ),
    ),
    Category(
        "Beauty & Personal Care",
        ("Dermaglow", "Purely", "Aurelle", "Vapora", "Brightsmile", "Edgeline", "Botanica"),
        11, 0.1,
        (
            _sub("Face Serums", 29,
                 nouns="Face Serum|Vitamin C Serum|Hyaluronic Acid Serum|Retinol Serum",
                 mods="Brightening|Hydrating|Anti-Ageing|Fragrance-Free|Vegan",
                 feats="2% hyaluronic acid|10% vitamin C|a lightweight texture|"
                       "dermatologist testing",
                 mats="hyaluronic acid|niacinamide|squalane|bakuchiol",
                 uses="dull skin|dry skin|fine lines|sensitive skin",
                 variants="30 ml|50 ml", step=0.5, sigma=0.4,
                 comps="Moisturisers|Sunscreen"),
            _sub("Moisturisers", 24,
                 nouns="Moisturiser|Face Cream|Night Cream|Gel Moisturiser",
                 mods="Hydrating|Oil-Free|Rich|SPF 30|Fragrance-Free",
                 feats="ceramides|48-hour hydration|a non-greasy finish|SPF 30 protection",
                 mats="shea butter|ceramides|squalane|aloe vera",
                 uses="dry skin|oily skin|combination skin|everyday use",
                 variants="50 ml|100 ml", step=0.6, sigma=0.4, comps="Face Serums"),
            _sub("Sunscreen", 14, nouns="Sunscreen|Sun Cream|Sun Spray|Mineral Sunscreen",
                 mods="SPF 50|SPF 30|Water-Resistant|Mineral|Kids",
                 feats="broad-spectrum UVA and UVB protection|water resistance for 80 minutes|"
                       "a non-greasy finish|reef-friendly filters",
                 mats="zinc oxide|titanium dioxide|aloe vera",
                 uses="the beach|sport|everyday wear|kids",
                 variants="50 ml|200 ml", step=1.0),
            _sub("Hair Dryers", 79,
                 nouns="Hair Dryer|Travel Hair Dryer|Hot Air Brush|Hair Straightener",
                 mods="Ionic|Compact|Foldable|Fast-Drying|Ceramic",
                 feats="ionic frizz control|three heat settings|a cool shot button|"
                       "a concentrator nozzle",
                 mats="ceramic|tourmaline|lightweight plastic",
                 uses="curly hair|fine hair|travel|quick blow-dries",
                 colours=("Black", "Pink", "White", "Rose Gold"), sigma=0.45, model=True),
            _sub("Shampoo", 9,
                 nouns="Shampoo|Conditioner|Shampoo and Conditioner Set|Hair Mask",
                 mods="Sulphate-Free|Volumising|Moisturising|Anti-Dandruff|Vegan",
                 feats="argan oil|a salon-quality lather|colour protection|natural fragrance",
                 mats="argan oil|keratin|tea tree oil|coconut oil",
                 uses="curly hair|coloured hair|fine hair|dry scalps",
                 variants="250 ml|500 ml|1 l", step=0.6),
            _sub("Electric Toothbrushes", 69,
                 nouns="Electric Toothbrush|Sonic Toothbrush|Water Flosser",
                 mods="Sonic|Rechargeable|Travel|Pressure-Sensor|Smart",
                 feats="a two-minute timer|a pressure sensor|a travel case|"
                       "five cleaning modes",
                 mats="soft nylon bristles|a slim handle",
                 uses="sensitive teeth|whitening|gum care|travel",
                 colours=("White", "Black", "Pink", "Blue"), model=True),
            _sub("Trimmers & Shavers", 59,
                 nouns="Beard Trimmer|Electric Shaver|Hair Clipper|Body Groomer",
                 mods="Cordless|Waterproof|Rotary|Foil|Precision",
                 feats="20 length settings|self-sharpening blades|a 90-minute runtime|"
                       "wet and dry use",
                 mats="stainless-steel blades|titanium-coated blades",
                 uses="beard shaping|close shaves|home haircuts",
                 aud="Men's|Women's", colours=("Black", "Silver", "Grey"), model=True),
        ),
    ),
    Category(
        "Baby & Kids",
        ("Tinysteps", "Cuddle & Co", "Nestling", "Safeseat", "Littlewing", "Babybloom"),
        3, 0.05,
        (
            _sub("Pushchairs", 349,
                 nouns="Pushchair|Stroller|Travel System|Compact Stroller",
                 mods="Lightweight|All-Terrain|Compact|Reversible|Double",
                 feats="a one-hand fold|a reversible seat|all-terrain wheels|"
                       "a large shopping basket|a rain cover",
                 mats="an aluminium chassis|water-repellent fabric",
                 uses="city walks|travel|off-road walks|newborns",
                 colours=("Black", "Grey", "Navy", "Sage Green"), comps="Car Seats"),
            _sub("Car Seats", 219,
                 nouns="Car Seat|Infant Car Seat|Booster Seat|Swivel Car Seat",
                 mods="i-Size|ISOFIX|360-Swivel|Rear-Facing|Extended",
                 feats="side-impact protection|a five-point harness|an ISOFIX base|"
                       "an adjustable headrest",
                 mats="impact-absorbing foam|breathable fabric",
                 uses="newborns|toddlers|long journeys|grandparents' cars",
                 colours=("Black", "Grey", "Navy"), model=True),
            _sub("Baby Monitors", 119,
                 nouns="Baby Monitor|Video Baby Monitor|Audio Baby Monitor",
                 mods="Video|Wi-Fi|Night-Vision|Two-Way Audio",
                 feats="night vision|room temperature alerts|two-way talk|a 300 m range|"
                       "built-in lullabies",
                 mats="a soft-touch parent unit|a compact camera",
                 uses="naps|overnight|travel",
                 colours=("White", "Grey"), model=True),
            _sub("Baby Bottles", 17, nouns="Baby Bottles|Anti-Colic Bottle Set|Sippy Cup",
                 mods="Anti-Colic|BPA-Free|Glass|Wide-Neck",
                 feats="anti-colic valves|slow-flow teats|easy-clean wide necks|"
                       "measurement markings",
                 mats="glass|BPA-free plastic|silicone",
                 uses="newborns|combination feeding|night feeds",
                 variants="2-Pack|4-Pack", step=0.7),
            _sub("Nappies", 19, nouns="Nappies|Pull-Up Pants|Swim Nappies|Baby Wipes",
                 mods="Eco|Sensitive|Overnight|Size 3|Size 5",
                 feats="12-hour dryness|a wetness indicator|plant-based materials|"
                       "a stretchy waistband",
                 mats="plant-based fibres|soft cotton-like fabric",
                 uses="daytime|overnight|swimming",
                 variants="Jumbo Pack|Monthly Pack", step=2.5, sigma=0.25),
            _sub("High Chairs", 129,
                 nouns="High Chair|Convertible High Chair|Booster High Chair",
                 mods="Foldable|Adjustable|Convertible|Wooden",
                 feats="a removable tray|five height positions|a wipe-clean seat|"
                       "a five-point harness",
                 mats="beech wood|wipe-clean PU|a steel frame",
                 uses="weaning|family meals|small kitchens",
                 colours=HOME, comps="Baby Bottles"),
        ),
    ),
    Category(
        "Toys & Games",
        ("Brickwise", "Playvo", "Tumble Toys", "Gamenight", "Puzzlecraft", "Speedzone",
         "Cuddle & Co"),
        12, 0.4,
        (
            _sub("Building Sets", 49,
                 nouns="Building Set|Brick Set|Construction Kit|Marble Run",
                 mods="Motorised|Space|City|Castle|Dinosaur",
                 feats="over 500 pieces|step-by-step instructions|a motor and remote|"
                       "compatibility with major brick brands",
                 mats="ABS plastic bricks|wooden blocks",
                 uses="ages 6+|ages 9+|family build nights|STEM learning",
                 sigma=0.5),
            _sub("Board Games", 34, nouns="Board Game|Strategy Game|Card Game|Party Game",
                 mods="Family|Cooperative|Strategy|Party|Travel",
                 feats="2 to 6 players|45-minute games|quick-start rules|"
                       "high-quality components",
                 mats="wooden tokens|linen-finish cards",
                 uses="family game nights|parties|two-player evenings"),
            _sub("Jigsaw Puzzles", 19,
                 nouns="Jigsaw Puzzle|Puzzle Set|3D Puzzle|Wooden Puzzle",
                 mods="1000-Piece|500-Piece|Landscape|Kids",
                 feats="thick precision-cut pieces|a reference poster|a sturdy box|"
                       "an anti-glare finish",
                 mats="recycled board|birch plywood",
                 uses="rainy days|relaxing evenings|ages 3+"),
            _sub("Plush Toys", 21, nouns="Plush Toy|Teddy Bear|Soft Toy|Cuddly Toy",
                 mods="Giant|Super-Soft|Weighted|Musical|Glow",
                 feats="embroidered eyes|machine-washable fabric|a soothing lullaby|"
                       "a gift box",
                 mats="recycled polyester plush|organic cotton",
                 uses="newborns|bedtime|gifts",
                 colours=BRIGHT),
            _sub("RC Cars", 69,
                 nouns="Remote Control Car|RC Truck|RC Drone|RC Monster Truck",
                 mods="4WD|Off-Road|High-Speed|Waterproof|Amphibious",
                 feats="speeds up to 40 km/h|a rechargeable battery|2.4 GHz control|"
                       "shock-absorbing suspension",
                 mats="a shock-resistant shell|rubber all-terrain tyres",
                 uses="outdoor play|racing with friends|ages 8+",
                 colours=BRIGHT, model=True),
            _sub("Dolls & Action Figures", 24,
                 nouns="Action Figure|Fashion Doll|Doll's House|Figure Playset",
                 mods="Poseable|Collector's|Deluxe|Mini",
                 feats="14 points of articulation|accessories included|a carry case|"
                       "a collectible card",
                 mats="durable vinyl|painted wood",
                 uses="imaginative play|collectors|ages 4+",
                 sigma=0.45),
        ),
    ),
    Category(
        "Pet Supplies",
        ("Pawsome", "Happy Tails", "Whiskerly", "Barkwell", "Purrfect", "Alpha Paw"),
        3, 0.05,
        (
            _sub("Dog Food", 34,
                 nouns="Dry Dog Food|Wet Dog Food|Grain-Free Dog Food|Puppy Food",
                 mods="Grain-Free|High-Protein|Hypoallergenic|Senior|Puppy",
                 feats="real chicken as the first ingredient|added glucosamine|"
                       "no artificial colours|omega-3 for a shiny coat",
                 mats="chicken and rice|salmon and potato|lamb and vegetables",
                 uses="small breeds|large breeds|sensitive stomachs|active dogs",
                 variants="2 kg|6 kg|12 kg", step=1.2, sigma=0.25,
                 comps="Pet Toys|Leashes & Harnesses"),
            _sub("Cat Food", 24, nouns="Dry Cat Food|Wet Cat Food|Kitten Food",
                 mods="Indoor|Grain-Free|Senior|Sterilised|Kitten",
                 feats="real salmon|taurine for heart health|hairball control|"
                       "urinary tract support",
                 mats="salmon|chicken|tuna and shrimp",
                 uses="indoor cats|kittens|fussy eaters",
                 variants="1.5 kg|4 kg|10 kg", step=1.0, sigma=0.25, comps="Cat Litter"),
            _sub("Dog Beds", 59,
                 nouns="Dog Bed|Orthopaedic Dog Bed|Calming Dog Bed|Dog Crate Mat",
                 mods="Orthopaedic|Calming|Waterproof|Washable|Raised",
                 feats="a removable washable cover|memory-foam support|raised bolsters|"
                       "a non-slip base",
                 mats="memory foam|faux fur|waterproof oxford fabric",
                 uses="senior dogs|puppies|large breeds|crates",
                 colours=HOME, variants="S|M|L|XL", step=0.3),
            _sub("Cat Litter", 17,
                 nouns="Cat Litter|Clumping Cat Litter|Litter Tray|Self-Cleaning Litter Box",
                 mods="Clumping|Unscented|Biodegradable|Odour-Control",
                 feats="tight clumping|99% dust-free granules|odour lock|a lightweight bag",
                 mats="bentonite clay|recycled paper|pine pellets|tofu",
                 uses="multi-cat homes|kittens|small flats",
                 variants="5 l|10 l|20 l", step=0.6, sigma=0.5, comps="Cat Food"),
            _sub("Pet Toys", 12,
                 nouns="Dog Toy|Cat Toy|Chew Toy|Interactive Cat Toy|Tug Rope",
                 mods="Squeaky|Durable|Interactive|Catnip|Puzzle",
                 feats="tough chew-resistant material|a built-in squeaker|"
                       "treat-dispensing pockets|catnip filling",
                 mats="natural rubber|cotton rope|plush",
                 uses="playtime|boredom busting|solo play|training rewards",
                 colours=BRIGHT),
            _sub("Leashes & Harnesses", 24,
                 nouns="Dog Harness|Dog Lead|Retractable Lead|Cat Harness",
                 mods="No-Pull|Reflective|Padded|Retractable|Adjustable",
                 feats="a front clip to stop pulling|reflective stitching|"
                       "a padded chest plate|quick-release buckles",
                 mats="nylon webbing|neoprene padding|climbing rope",
                 uses="daily walks|training|hiking with dogs",
                 colours=BRIGHT, variants="S|M|L", step=0.1),
        ),
    ),
    Category(
        "Bags & Luggage",
        ("Roamly", "Jetsetter", "Packwise", "Northbound", "Ridgeline", "Carryon Co"),
        7, 0.25,
        (
            _sub("Suitcases", 179,
                 nouns="Suitcase|Cabin Suitcase|Hard-Shell Suitcase|Spinner Suitcase",
                 mods="Hard-Shell|Expandable|Lightweight|Cabin-Size|4-Wheel",
                 feats="four spinner wheels|a TSA-approved lock|an expandable zip|"
                       "a telescopic handle|compression straps",
                 mats="polycarbonate|recycled polypropylene|aluminium|ballistic nylon",
                 uses="weekend breaks|long-haul travel|business trips",
                 colours=("Black", "Navy", "Grey", "Sage Green", "Burgundy"),
                 variants="Cabin|Medium|Large", step=0.25, comps="Travel Accessories"),
            _sub("Laptop Bags", 64,
                 nouns="Laptop Backpack|Laptop Bag|Laptop Sleeve|Messenger Bag",
                 mods="Anti-Theft|Water-Resistant|Slim|Expandable|15.6-inch",
                 feats="a padded laptop compartment|a USB charging port|a luggage strap|"
                       "hidden pockets",
                 mats="recycled polyester|waxed canvas|vegan leather",
                 uses="commuting|business travel|university",
                 colours=APPAREL),
            _sub("Travel Accessories", 17,
                 nouns="Packing Cubes|Travel Adapter|Neck Pillow|Luggage Scale|Toiletry Bag",
                 mods="Universal|Compression|Memory-Foam|Lightweight",
                 feats="USB-C charging|compression zips|a carry pouch|a hanging hook",
                 mats="ripstop nylon|memory foam|recycled polyester",
                 uses="long flights|backpacking|business trips",
                 colours=("Black", "Grey", "Navy", "Teal")),
            _sub("Duffel Bags", 79, nouns="Duffel Bag|Weekend Bag|Gym Bag|Holdall",
                 mods="Waterproof|Foldable|Leather|Convertible|Large",
                 feats="a separate shoe compartment|backpack straps|a wet pocket|"
                       "a padded shoulder strap",
                 mats="waxed canvas|TPU-coated polyester|full-grain leather",
                 uses="weekend trips|the gym|sports kit",
                 colours=OUTDOOR, variants="40L|60L|90L", step=0.2),
            _sub("Wallets", 44, nouns="Wallet|Cardholder|Travel Wallet|Coin Purse",
                 mods="RFID-Blocking|Slim|Leather|Bifold|Zip-Around",
                 feats="RFID protection|eight card slots|a coin pocket|a gift box",
                 mats="full-grain leather|vegan leather|recycled nylon",
                 uses="everyday carry|travel|gifts",
                 colours=("Black", "Brown", "Tan", "Navy", "Burgundy")),
        ),
    ),
)

# Shape of the descriptions. Placeholders: {brand} {noun} {noun_lc} {tier} {Tier} {use}
# {feature1} {feature2} {material}. Each leaves out articles before the noun, so that
# singular, plural and mass nouns ("Running Shoes", "Ground Coffee") all read right.
DESCRIPTION_TEMPLATES = (
    "{brand} {noun_lc} designed for {use}, with {feature1} and {feature2}. "
    "Made with {material}.",
    "{Tier} {noun_lc} for {use}: {feature1}, {feature2} and {material}.",
    "Made for {use}: {feature1} and {feature2}, from {brand}'s {tier} range. "
    "Built with {material}.",
    "Everything you need for {use}: {feature1}, {feature2} and {material}. "
    "{Tier} quality from {brand}.",
)

# A closing line some descriptions end with; shared across the catalogue on purpose, as
# real shops repeat their service promises.
DESCRIPTION_CLOSERS = (
    "",
    "",
    "Free returns within 30 days.",
    "Backed by a two-year warranty.",
    "Ships within 24 hours.",
    "A customer favourite for value.",
    "Gift wrapping available.",
)

# Tags leave these words out: they carry no meaning on their own.
TAG_STOPWORDS = frozenset({"and", "with", "of", "the", "to", "for", "in", "a", "an", "on"})

# Acquisition channel recorded as each user's cohort, with its share of sign-ups.
COHORTS = (
    ("organic", 0.32),
    ("search_ads", 0.24),
    ("social", 0.18),
    ("email", 0.10),
    ("referral", 0.08),
    ("affiliate", 0.08),
)
