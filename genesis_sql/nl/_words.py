"""Generic English the request parser knows before it reads the catalog.

Nothing here names a table or column of any particular dataset: number words, comparatives, words that
carry no condition, common synonym groups for column concepts (applied only when a model has such a
column), and the US states with their postal codes.
"""
from __future__ import annotations

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
        "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
SUFFIX_SCALES = {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}
DOZEN = {"dozen": 12}
DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                "eighties": 80, "nineties": 90}

# Comparison phrases (longest first when matched); the operator they mean.
COMPARATORS: dict[str, str] = {
    "more than": ">", "greater than": ">", "higher than": ">", "bigger than": ">", "larger than": ">",
    "over": ">", "above": ">", "exceeding": ">", "exceeds": ">", "in excess of": ">", "upwards of": ">",
    "at least": ">=", "no less than": ">=", "not less than": ">=", "no fewer than": ">=", "minimum of": ">=",
    "minimum": ">=", "starting at": ">=", "from at least": ">=",
    "less than": "<", "fewer than": "<", "lower than": "<", "smaller than": "<", "under": "<", "below": "<",
    "beneath": "<",
    "at most": "<=", "no more than": "<=", "not more than": "<=", "up to": "<=", "maximum of": "<=",
    "maximum": "<=", "no greater than": "<=", "not over": "<=", "not above": "<=",
    "not under": ">=", "not below": ">=", "no higher than": "<=", "no lower than": ">=",
    "greater than or equal to": ">=", "more than or equal to": ">=", "higher than or equal to": ">=",
    "less than or equal to": "<=", "lower than or equal to": "<=", "at or above": ">=", "at or below": "<=",
    "exactly": "=", "equal to": "=", "equals": "=", "equalling": "=", "of exactly": "=",
    ">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "==": "=", "!=": "!=", "<>": "!=", "=>": ">=",
    "=<": "<=", "≥": ">=", "≤": "<=",
}
# After a number: "50 or more", "40 or younger", "5+".
POST_COMPARATORS: dict[str, str] = {
    "or more": ">=", "or over": ">=", "or above": ">=", "or higher": ">=", "or greater": ">=", "or older": ">=",
    "or larger": ">=", "or bigger": ">=", "or longer": ">=", "and up": ">=", "and over": ">=", "and above": ">=",
    "and older": ">=", "plus": ">=", "+": ">=", "or later": ">=", "or after": ">=", "and later": ">=",
    "or less": "<=", "or fewer": "<=", "or under": "<=", "or below": "<=", "or lower": "<=", "or younger": "<=",
    "or smaller": "<=", "or shorter": "<=", "and under": "<=", "and below": "<=", "and younger": "<=",
    "or earlier": "<=", "or before": "<=", "and earlier": "<=",
}
# Comparatives that name their concept: the column is the model's column in that synonym group.
DIRECTED: dict[str, tuple[str, str]] = {
    "older than": (">", "age"), "younger than": ("<", "age"), "cheaper than": ("<", "price"),
    "more expensive than": (">", "price"), "pricier than": (">", "price"), "costlier than": (">", "price"),
    "less expensive than": ("<", "price"), "longer than": (">", "length"), "shorter than": ("<", "length"),
    "heavier than": (">", "weight"), "lighter than": ("<", "weight"), "taller than": (">", "height"),
    "richer than": (">", "income"), "poorer than": ("<", "income"), "earning more than": (">", "income"),
    "earning less than": ("<", "income"), "earning over": (">", "income"), "earning under": ("<", "income"),
    "making more than": (">", "income"), "making less than": ("<", "income"),
    "costing more than": (">", "price"), "costing less than": ("<", "price"), "costing over": (">", "price"),
    "costing under": ("<", "price"), "priced above": (">", "price"), "priced below": ("<", "price"),
    "priced over": (">", "price"), "priced under": ("<", "price"),
}
# Time comparatives: they attach to a date column or a year column.
TEMPORAL: dict[str, str] = {"after": ">", "before": "<", "since": ">=", "until": "<=", "prior to": "<",
                            "later than": ">", "earlier than": "<", "through": "<=", "up until": "<="}

# Concept -> words for it. A group applies to a model only when a column's name (or its words) is one
# of the group's words; then every word of the group names that column.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "age": ("age", "aged", "ages", "age of"),
    "sex": ("sex", "gender", "genders", "sexes"),
    "price": ("price", "prices", "priced", "cost", "costs", "costing", "pricing", "costed"),
    "income": ("income", "incomes", "salary", "salaries", "earnings", "earning", "earn", "earns", "wage",
               "wages", "pay", "paid", "revenue"),
    "length": ("length", "duration", "long", "runtime", "running time", "lasting"),
    "weight": ("weight", "weighing", "weighs", "heavy"),
    "height": ("height", "tall"),
    "year": ("year", "years", "yr"),
    "rating": ("rating", "ratings", "rated", "score", "scored", "stars"),
    "state": ("state", "states"),
    "country": ("country", "countries", "nation"),
    "city": ("city", "cities", "town"),
    "education": ("education", "schooling", "school", "educ"),
    "experience": ("experience", "exper", "exp"),
    "children": ("children", "kids", "child"),
    "votes": ("votes", "vote"),
    "budget": ("budget", "budgets"),
    "quantity": ("quantity", "qty", "count"),
    "date": ("date", "dated"),
}
# Money words after a number ("5000 dollars") or "$" before it: the model's money column, when it has one.
MONEY_UNITS = ("dollars", "dollar", "usd", "bucks", "euros", "euro", "eur", "pounds", "gbp")
MONEY_CONCEPTS = ("price", "income", "budget")
UNIT_WORDS = {
    "years old": "age", "year old": "age", "yrs old": "age", "years of age": "age", "year olds": "age",
    "years": None, "year": None, "yrs": None,
    "minutes": "length", "minute": "length", "mins": "length", "min": "length", "hours": "length",
    "pounds": "weight", "lbs": "weight", "kg": "weight", "kilograms": "weight", "cm": "height",
    "days": None, "day": None, "weeks": None, "week": None, "months": None, "month": None, "hrs": None,
    "percent": None, "pct": None, "%": None, "points": None, "units": None, "times": None,
}

# Value words: people nouns that mean a value of a sex/gender column.
VALUE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "male": ("men", "man", "males", "boys", "boy", "guys", "gentlemen", "male"),
    "female": ("women", "woman", "females", "girls", "girl", "ladies", "lady", "female"),
    "m": ("men", "man", "males", "boys", "male"),
    "f": ("women", "woman", "females", "girls", "female"),
}
TRUE_WORDS = ("yes", "y", "true", "t", "1")
FALSE_WORDS = ("no", "n", "false", "f", "0")

NEGATIONS = ("not", "non", "no", "without", "excluding", "except", "other than", "isn't", "aren't", "never",
             "neither", "nor", "exclude", "don't", "doesn't", "didn't", "but not", "apart from", "outside",
             "outside of",
             "haven't", "hasn't", "wasn't", "weren't", "havent", "hasnt", "isnt", "arent", "dont", "doesnt",
             "didnt", "wasnt", "werent", "won't", "cannot", "can't")
BETWEEN_WORDS = ("between", "from", "within", "in the range", "ranging from", "range")
AND_WORDS = ("and", "&", "as well as", "plus also", "also", "while", "but")
OR_WORDS = ("or", "either")
TO_WORDS = ("to", "and", "-", "–", "through", "thru", "till")

# Words that ask for rows or connect a phrase and carry no condition of their own.
FILLER = frozenset("""
generate create make produce synthesize synthesise simulate sample give get show list return fetch draw
select pick build prepare provide output generating i'd i'm we'd
need want like would could can you me us i we please some synthetic fake artificial random new mock
rows row records record samples entries entry observations observation items item examples example
instances instance cases case data datapoints points people persons person individuals individual
the a an of with who whose which that those these them their there are is be been being was were has
have having had in on at for from by as to all only just each every any where such whom what having
living live lives located based residing reside resides coming come comes who're they he she it its
dataset table set lot total altogether also here now quickly please kindly let let's lets do does
and please thanks thank could would should will shall may might must via using per
""".split())
# Generic nouns for "rows of a model": they may stand where the model's name would.
ROW_NOUNS = frozenset("""rows row records record samples sample entries entry observations observation
items item examples example instances instance cases case people persons person individuals individual
datapoints""".split())

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia", "PR": "Puerto Rico",
}
