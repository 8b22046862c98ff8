"""General English the bot reads with, for any article: month names, number words, stopwords, metric
synonyms and the cue words of causes, manners and people.

Nothing here is about one article: names, aliases and an article's own wording live in the knowledge
file beside it (`knowledge.py`). Every list is a plain constant so that one place holds it.
"""

from __future__ import annotations

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
MONTH_NUMBER = {m.lower(): i for i, m in enumerate(MONTHS, 1)} | {m[:3].lower(): i for i, m in enumerate(MONTHS, 1)}

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12,
}  # fmt: skip
# Words that state an amount without digits ("a dozen", "double"): a sentence holding one may hold a figure.
AMOUNT_WORDS = (*NUMBER_WORDS, "dozen", "hundred", "thousand", "million", "billion", "trillion", "half", "third", "quarter", "double", "triple")

# English function words plus the question words readers use; none of them says what a question is about.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don tell say says said did does also much many according article anything
    something give describe explain mean means""".split()
)

# Words that never name a metric, though they sit in questions about figures ("how big", "how fast").
METRIC_STOPWORDS = frozenset("""whose much many big large fast high low long deep far currently today show shows per each every""".split())

# Metric words readers use, by the term rows are matched on; longer phrases win over their words.
# An article may add its own in its knowledge file.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "dau": ("daily active users", "daily active user", "daily users", "daily active", "daus", "dau"),
    "mau": ("monthly active users", "monthly users", "maus", "mau"),
    "user": ("people who use", "people use", "people using", "user numbers", "user base", "users", "user", "customers", "consumers", "shoppers", "buyers"),
    "gmv": ("gross merchandise volume", "gross merchandise value", "merchandise volume", "merchandise value", "transaction volume", "value of goods traded",
            "value of goods sold", "goods traded", "goods sold", "gmv", "sales"),
    "share": ("market share", "share of the market", "share", "slice", "portion"),
    "stock": ("shares", "stock", "stocks"),
    "buyback stock": ("share buybacks", "share buyback", "share repurchases", "share repurchase", "stock buybacks", "stock buyback"),
    "fine": ("fine", "fined", "fines", "penalty", "penalties", "penalised", "penalized", "antitrust", "anti-monopoly", "monopoly"),
    "buyback": ("buybacks", "buyback", "buy-back", "buy back", "buying back", "bought back", "repurchases", "repurchase", "repurchased", "repurchasing"),
    "authorized": ("authorized", "authorised", "authorization", "authorisation", "approved", "remaining", "still available"),
    "growth": ("growth", "grow", "grows", "grew", "growing", "grown", "increase", "increased", "rise", "rose", "re-accelerated", "reaccelerated", "accelerated", "accelerate", "re-accelerate"),
    "revenue": ("revenues", "revenue", "turnover", "top line", "top-line", "income"),
    "loss": ("losses", "loss", "losing", "lose", "lost", "deficit"),
    "member": ("members", "member", "membership", "memberships", "subscribers", "subscriber"),
    "discount": ("discounts", "discount", "discounted", "discounting", "price cuts", "price cut", "cut prices", "cheaper"),
    "ai": ("artificial intelligence", "ai-related", "ai"),
    "ebita": ("adjusted ebita", "ebita", "ebitda", "profits", "profit", "profitability", "earnings"),
    "improvement": ("improvements", "improvement", "improve", "improved", "improving"),
    "ecommerce": ("e-commerce", "ecommerce", "online shopping", "online retail"),
    "cloud": ("cloud computing", "cloud"),
    "ipo": ("initial public offering", "public offering", "listing", "ipos", "ipo"),
    "halt": ("halted", "halt", "halting", "suspended", "suspend", "stopped", "pulled"),
    "reverse": ("reversals", "reversal", "reversed", "reverse", "u-turn", "u-turns", "canceled", "cancelled", "cancel", "cancellation", "withdrawn", "withdrawal", "withdrew", "scrapped"),
    "rival": ("competitors", "competitor", "challengers", "challenger", "rivals", "rival", "enemies", "enemy"),
    "stake": ("minority stakes", "minority stake", "stakes", "stake", "minority"),
    "group": ("business groups", "business group", "divisions", "division", "units", "groups", "group"),
    "employee": ("employees", "employee", "staff", "headcount", "workforce", "workers"),
    "quarter": ("quarterly", "quarters", "quarter"),
    "year": ("years", "year"),
    "month": ("months", "month"),
    "hour": ("hours", "hour"),
}  # fmt: skip

# What a sentence that gives a reason, a manner or people tends to say.
CAUSE_CUES = ("because", "due to", "reason", "intended to", "in order to", "so that", "pressure", "pressures", "led to", "leading to", "driven by",
              "thanks to", "as a result", "the answer", "lesson", "to this end", "in this context", "realized", "realised", "since", "caused")
MANNER_CUES = ("using", "used", "uses", "through", "via", "relies on", "rely on", "relied on", "relying on", "by ")
PEOPLE_WORDS = ("investors", "entrepreneurs", "policymakers", "executive", "executives", "founder", "founders", "co-founder", "co-founders", "management",
                "leader", "leaders", "leadership", "team", "users", "consumers", "shoppers", "employees", "staff", "customers", "developers", "rivals",
                "competitors", "analysts", "regulator", "regulators", "government", "authorities", "CEO", "CEOs", "chairman")
# Roles a person holds; a question about one of them wants one person ("Who runs ...?").
ROLE_WORDS = ("CEO", "chief executive", "chairman", "chairwoman", "president", "founder", "co-founder", "head", "boss", "chief")
# Sentence openers that are not names though capitalised.
NOT_NAMES = frozenset(f"""{' '.join(MONTHS)} In The As For Under At On By And But This That These Those It Its Their They A An If When While
    With From To Of Data Now However Yet Likewise Compared Despite Although Upon Against Just Internally Externally Like Why How What
    Which Who Where Our We Here There Then Also So Such Each Every Both Many Most Some Despite After Before Since Until""".split())
# Last words that make a capitalised run an organisation rather than a person ("... Cloud", "... Group").
# How readers type in a hurry, and what they mean: contractions without the apostrophe and chat shorthand.
CASUAL_WORDS = {
    "whats": "what's", "hows": "how's", "whos": "who's", "wheres": "where's", "whens": "when's", "whys": "why's",
    "thats": "that's", "isnt": "isn't", "wasnt": "wasn't", "arent": "aren't", "werent": "weren't", "didnt": "didn't",
    "doesnt": "doesn't", "dont": "don't", "cant": "can't", "wont": "won't", "hasnt": "hasn't", "havent": "haven't",
    "hadnt": "hadn't", "yr": "year", "yrs": "years", "pls": "please", "plz": "please",
    "u": "you", "ur": "your", "tho": "though", "thx": "thanks", "b4": "before", "w/": "with", "govt": "government",
    "n": "and", "abt": "about", "wat": "what", "bc": "because", "cuz": "because", "ppl": "people",
}  # fmt: skip
# Ways of naming the same country: its name, its people's adjective and its capital ("Washington's curbs"
# are the U.S.'s). A question using one is about a country an article naming another of them covers.
PLACE_NAMES = (
    ("U.S.", "US", "USA", "United States", "America", "American", "Americans", "Washington"),
    ("China", "Chinese", "Beijing", "PRC"), ("Japan", "Japanese", "Tokyo"), ("UK", "Britain", "British", "London"),
    ("EU", "Europe", "European", "Brussels"), ("India", "Indian", "Delhi"), ("Korea", "Korean", "Seoul"),
    ("Germany", "German", "Berlin"), ("France", "French", "Paris"), ("Russia", "Russian", "Moscow"),
    ("Taiwan", "Taiwanese", "Taipei"), ("Hong Kong", "HK"),
)
ORG_SUFFIXES = frozenset("group cloud store logistics e-commerce commerce intelligence services company inc corp ltd bank fund motors labs".split())

# Greetings, thanks and farewells: answered with a short reply, not a search.
SMALLTALK = {
    "greeting": ("hi", "hello", "hey", "good morning", "good afternoon", "good evening", "howdy", "greetings", "hiya", "yo"),
    "thanks": ("thanks", "thank you", "thx", "ty", "cheers", "many thanks", "thanks a lot", "great thanks", "ok thanks", "perfect thanks"),
    "bye": ("bye", "goodbye", "see you", "good night", "later"),
    "ack": ("ok", "okay", "cool", "nice", "great", "got it", "i see", "awesome", "perfect", "wow"),
}
