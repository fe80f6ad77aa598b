"""Words, names and cameras the sample marketplace is made of."""
from __future__ import annotations

# per sample photo (by slug): category, title nouns, keywords
BASES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "aqua": ("abstract", ("water ripples", "blue waves", "aqua surface"), ("water", "blue", "ripple", "abstract", "texture", "calm", "liquid", "background")),
    "blinds": ("architecture", ("window blinds", "light through blinds", "interior shadows"), ("window", "blinds", "light", "shadow", "interior", "home", "lines", "minimal")),
    "dune": ("travel", ("desert dunes", "sand dune at dusk", "dune ridge"), ("desert", "sand", "dune", "sahara", "travel", "landscape", "dry", "warm")),
    "fossa": ("animals", ("fossa portrait", "wild fossa", "fossa in the forest"), ("fossa", "animal", "wildlife", "madagascar", "mammal", "predator", "nature", "zoo")),
    "freshflower": ("nature", ("fresh flower", "spring blossom", "petals in morning light"), ("flower", "petal", "spring", "bloom", "garden", "fresh", "macro", "plant")),
    "garden": ("nature", ("summer garden", "garden path", "green garden"), ("garden", "green", "plants", "summer", "park", "outdoor", "leaves", "peaceful")),
    "greenmeadow": ("nature", ("green meadow", "meadow in spring", "rolling meadow"), ("meadow", "grass", "field", "green", "countryside", "spring", "landscape", "rural")),
    "infinite-sea": ("travel", ("infinite sea", "open ocean", "sea horizon"), ("sea", "ocean", "horizon", "waves", "coast", "travel", "blue", "seascape")),
    "kleiber": ("animals", ("nuthatch on a branch", "kleiber bird", "small songbird"), ("bird", "nuthatch", "kleiber", "wildlife", "branch", "feathers", "songbird", "nature")),
    "ladybird": ("animals", ("ladybird on a leaf", "red ladybug", "ladybird macro"), ("ladybird", "ladybug", "insect", "macro", "red", "leaf", "beetle", "nature")),
    "painting-colors": ("art", ("paint colours", "colourful paint", "artist palette"), ("paint", "colour", "art", "palette", "creative", "brush", "vivid", "abstract")),
    "raindrops": ("nature", ("raindrops on glass", "rainy window", "water drops"), ("rain", "drops", "water", "glass", "weather", "wet", "macro", "autumn")),
    "storm": ("nature", ("storm clouds", "thunderstorm sky", "dark storm"), ("storm", "clouds", "sky", "weather", "dramatic", "thunder", "dark", "rain")),
    "twowings": ("animals", ("butterfly wings", "two wings", "butterfly on a flower"), ("butterfly", "wings", "insect", "macro", "summer", "colourful", "nature", "flower")),
    "wood": ("backgrounds", ("wood grain", "wooden texture", "old planks"), ("wood", "grain", "texture", "background", "brown", "natural", "timber", "rustic")),
    "yellowflower": ("nature", ("yellow flower", "sunny blossom", "yellow petals"), ("flower", "yellow", "bloom", "sunny", "petals", "spring", "garden", "macro")),
}

GENERIC_KEYWORDS = (
    "photo", "stock", "beautiful", "color", "closeup", "daylight", "detail", "fresh", "horizontal",
    "natural", "no people", "outdoors", "pattern", "scenic", "season", "serene", "vibrant", "wallpaper",
)
ADJECTIVES = ("quiet", "bright", "golden", "misty", "vivid", "soft", "morning", "evening", "lonely", "wild")

CATEGORY_ACCEPT = {
    "nature": 0.2, "animals": 0.45, "travel": 0.3, "architecture": 0.0, "abstract": -0.35,
    "art": -0.2, "backgrounds": -0.5, "people": 0.25, "business": 0.35,
}
CATEGORY_SALES = {
    "nature": 0.0, "animals": 0.3, "travel": 0.45, "architecture": 0.1, "abstract": -0.4,
    "art": -0.3, "backgrounds": 0.2, "people": 0.6, "business": 0.7,
}
OTHER_CATEGORIES = ("people", "business", "travel", "backgrounds")

FIRST = (
    "anna", "ben", "carla", "david", "elena", "felix", "greta", "hugo", "ines", "jamal", "kira",
    "liam", "mona", "noah", "olga", "pablo", "quinn", "rosa", "samir", "tara", "umar", "vera",
    "wen", "ximena", "yusuf", "zoe", "marek", "aiko", "bruno", "chiara", "dmitri", "emeka",
)
LAST = (
    "meyer", "rossi", "nowak", "silva", "kim", "ivanova", "okafor", "larsen", "dubois", "garcia",
    "haddad", "sato", "novak", "kowalski", "fischer", "brown", "moreau", "costa", "ali", "berg",
)
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "JP", "CN", "IN", "BR", "CA", "AU", "KR", "MX", "ZA", "NG", "CH")
OFFSETS = (0, 0, 0, 1, 2, -5, 9, 8, 5.5)

CAMERAS = (
    ("Canon", "EOS R5"), ("Canon", "EOS 5D Mark IV"), ("Nikon", "Z 7II"), ("Nikon", "D850"),
    ("Sony", "ILCE-7RM4"), ("Sony", "ILCE-6400"), ("FUJIFILM", "X-T4"), ("OLYMPUS", "E-M1MarkIII"),
    ("Apple", "iPhone 14 Pro"), ("Google", "Pixel 8"), ("Panasonic", "DC-S5"), ("Leica", "Q2"),
)
FOCALS = ("14", "24", "35", "50", "85", "100", "135", "200", "400", "6.9", "4.2")
APERTURES = ("1.4", "1.8", "2.8", "4", "5.6", "8", "11", "16")
ISOS = (64, 100, 200, 400, 800, 1600, 3200, 6400)
EXPOSURES = ("0.0005", "0.001", "0.002", "0.004", "0.008", "0.0166667", "0.0333333", "0.125", "0.5", "2", "30")
ABSURD_EXIF = (
    {"iso": 0},
    {"iso": 4096000000},
    {"aperture": "0"},
    {"exposure_s": "-1"},
    {"exposure_s": "86400"},
    {"focal_length_mm": "12000"},
)

LICENSEE_WORDS = ("blue", "north", "city", "green", "bright", "urban", "global", "pixel", "media", "studio", "travel", "food")
LICENSEE_NOUNS = ("press", "agency", "magazine", "design", "books", "ads", "digital", "news")
TLDS = ("com", "de", "fr", "co.uk", "com.au", "net", "org", "io")
INSPECTORS = tuple(f"insp_{i:02d}" for i in range(1, 7))
