"""English irregular verb forms mapped to their base form, applied before stemming.

A question asks "how far did it fly?" or "when did they begin?"; the article says "it flew"
and "they began". A Snowball stemmer cannot join those (it only strips suffixes), so BM25 and
sentence coverage would see different words. This is the exception list a lemmatiser keeps
(WordNet's morphy works the same way), limited to common verbs. Forms that are more often
another word are left out on purpose: "left" (direction), "found" (to found), "lay", "wound",
"ground", "bound", "rose", "saw", "felt", "lead" (the metal).
"""

from __future__ import annotations

_FORMS = """
arise arose arisen; awake awoke awoken; be was were been; bear bore borne born; beat beaten;
become became; begin began begun; bend bent; bet; bid; bind; bite bit bitten; bleed bled;
blow blew blown; break broke broken; breed bred; bring brought; build built; burn burnt;
buy bought; catch caught; choose chose chosen; cling clung; come came; cost; creep crept;
deal dealt; dig dug; do did done; draw drew drawn; dream dreamt; drink drank drunk;
drive drove driven; eat ate eaten; fall fell fallen; feed fed; fight fought; flee fled;
fly flew flown; forbid forbade forbidden; forget forgot forgotten; forgive forgave forgiven;
freeze froze frozen; get got gotten; give gave given; go went gone; grow grew grown;
hang hung; have had; hear heard; hide hid hidden; hit; hold held; hurt; keep kept; know knew known;
lead led; lend lent; let; light lit; lose lost; make made; mean meant; meet met; pay paid;
prove proven; put; quit; read; ride rode ridden; ring rang rung; rise risen; run ran;
say said; seek sought; sell sold; send sent; set; shake shook shaken; shine shone; shoot shot;
show shown; shrink shrank shrunk; shut; sing sang sung; sink sank sunk; sit sat; sleep slept;
slide slid; speak spoke spoken; spend spent; spin spun; split; spread; spring sprang sprung;
stand stood; steal stole stolen; stick stuck; sting stung; strike struck stricken;
strive strove striven; swear swore sworn; sweep swept; swim swam swum; swing swung;
take took taken; teach taught; tear tore torn; tell told; think thought; throw threw thrown;
understand understood; undertake undertook undertaken; wake woke woken; wear wore worn;
weave wove woven; weep wept; win won; withdraw withdrew withdrawn; write wrote written;
overcome overcame; overtake overtook overtaken; overthrow overthrew overthrown;
"""

BASE_FORM: dict[str, str] = {}
for group in _FORMS.split(";"):
    words = group.split()
    if words:
        for form in words[1:]:
            BASE_FORM[form] = words[0]
