"""Build the synthetic labeled PII corpus in fixtures/pii/corpus.jsonl (deterministic: Random(42)).

Each record: {"id", "locale", "text", "spans": [{"start", "end", "type"}]} with Presidio entity names
and character offsets into `text`. Values are synthetic: valid by their checksums (Luhn, IBAN mod-97,
SSN area/group rules) but not real. Negatives imitate what trips detectors: order numbers, version
strings, dates, times, phone-like ids, ISBNs, EANs, hashes, coordinates, amounts.

    python bench/pii_corpus.py            # rewrites fixtures/pii/corpus.jsonl
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "pii" / "corpus.jsonl"


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "visa", "mc", "mc2", "amex", "disc", "jcb"])
    if kind == "amex":
        d = luhn_complete(rng.choice(["34", "37"]), 15, rng)
        sep = rng.choice([" ", "-", ""])
        return sep.join([d[:4], d[4:10], d[10:]])
    prefix = {"visa": "4", "mc": rng.choice(["51", "52", "53", "54", "55"]), "mc2": "2221", "disc": "6011",
              "jcb": "3528"}[kind]
    d = luhn_complete(prefix, 16, rng)
    sep = rng.choice([" ", "-", "", " "])
    return sep.join(d[i:i + 4] for i in range(0, 16, 4))


def ssn(rng: random.Random, context: bool = False) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    s = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    if context and rng.random() < 0.4:
        return s
    sep = rng.choice(["-", "-", "-", " "])
    return f"{s[:3]}{sep}{s[3:5]}{sep}{s[5:]}"


IBAN_SHAPES = {  # country: BBAN spec as (kind, count) with kind n=digits, a=upper letters, c=alnum
    "DE": [("n", 18)], "GB": [("a", 4), ("n", 14)], "FR": [("n", 10), ("c", 11), ("n", 2)], "ES": [("n", 20)],
    "IT": [("a", 1), ("n", 10), ("c", 12)], "NL": [("a", 4), ("n", 10)], "BE": [("n", 12)], "CH": [("n", 5), ("c", 12)],
    "AT": [("n", 16)], "PL": [("n", 24)], "PT": [("n", 21)], "IE": [("a", 4), ("n", 14)], "SE": [("n", 20)],
}


def iban(rng: random.Random) -> str:
    country = rng.choice(list(IBAN_SHAPES))
    bban = ""
    for kind, count in IBAN_SHAPES[country]:
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
        bban += "".join(rng.choice(pool) for _ in range(count))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    code = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6:
        return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
    return code


def ipv4(rng: random.Random) -> str:
    first = rng.choice([10, 172, 192, 8, 34, 52, 100, 203, 81, 151])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xffff):x}" for _ in range(8)]
    r = rng.random()
    if r < 0.4:
        return ":".join(groups)
    if r < 0.8:
        return f"2001:db8:{groups[2]}::{groups[6]}:{groups[7]}"
    return f"fe80::{groups[5]}:{groups[6]}:{groups[7]}"


def phone(rng: random.Random, locale: str) -> str:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    nz = lambda: rng.choice("23456789")  # noqa: E731
    forms = {
        "en_US": [f"({nz()}{d(2)}) {nz()}{d(2)}-{d(4)}", f"{nz()}{d(2)}-{nz()}{d(2)}-{d(4)}",
                  f"{nz()}{d(2)}.{nz()}{d(2)}.{d(4)}", f"+1 {nz()}{d(2)} {nz()}{d(2)} {d(4)}",
                  f"1-800-{nz()}{d(2)}-{d(4)}", f"+1 ({nz()}{d(2)}) {nz()}{d(2)}-{d(4)}", f"+1-{nz()}{d(2)}-{nz()}{d(2)}-{d(4)}"],
        "en_GB": [f"+44 20 {d(4)} {d(4)}", f"020 {d(4)} {d(4)}", f"07{d(3)} {d(6)}", f"+44 7{d(3)} {d(6)}",
                  f"0161 {d(3)} {d(4)}", f"+44 (0)161 {d(3)} {d(4)}"],
        "de_DE": [f"+49 30 {d(8)}", f"030 {d(8)}", f"0151 {d(8)}", f"+49 (0)30 {d(7)}", f"030/{d(7)}",
                  f"+49 151 {d(4)} {d(4)}", f"0049 89 {d(7)}"],
        "fr_FR": [f"01 {d(2)} {d(2)} {d(2)} {d(2)}", f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
                  f"06.{d(2)}.{d(2)}.{d(2)}.{d(2)}", f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}", f"07 {d(2)} {d(2)} {d(2)} {d(2)}"],
        "es_ES": [f"+34 91{d(1)} {d(3)} {d(3)}", f"6{d(2)} {d(2)} {d(2)} {d(2)}", f"+34 6{d(2)} {d(3)} {d(3)}",
                  f"9{d(2)} {d(3)} {d(3)}"],
        "it_IT": [f"+39 06 {d(4)} {d(4)}", f"3{d(2)} {d(3)} {d(4)}", f"+39 3{d(2)} {d(7)}", f"02 {d(4)} {d(4)}"],
        "nl_NL": [f"+31 20 {d(3)} {d(4)}", f"06-{d(8)}", f"020-{d(7)}", f"+31 6 {d(8)}"],
        "en_IN": [f"+91 9{d(4)} {d(5)}", f"9{d(4)} {d(5)}", f"+91-{rng.choice('6789')}{d(9)}", f"022 {d(4)} {d(4)}"],
        "pt_BR": [f"+55 11 9{d(4)}-{d(4)}", f"(11) 9{d(4)}-{d(4)}", f"(21) {nz()}{d(3)}-{d(4)}"],
    }
    return rng.choice(forms.get(locale, forms["en_US"]))


def email(rng: random.Random) -> str:
    first = rng.choice(["jane", "john", "maria", "li", "ahmed", "sofia", "luca", "anna", "pierre", "priya", "o.brien",
                        "k.schmidt", "m_garcia"])
    last = rng.choice(["doe", "smith", "rossi", "müller".replace("ü", "u"), "dupont", "sharma", "silva", "jansen"])
    local = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 999)}", f"{first}+news", f"{first[0]}{last}",
                        f"{first}_{last}{rng.randint(10, 99)}"])
    domain = rng.choice(["example.com", "mail.example.org", "acme.co.uk", "firma.de", "societe.fr", "corp.io",
                         "uni-bonn.de", "gmail.com", "outlook.com", "example.com.br"])
    return f"{local}@{domain}"


def driver_license(rng: random.Random) -> str:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    letter = rng.choice(string.ascii_uppercase)
    return rng.choice([f"{letter}{d(7)}", f"{d(9)}", f"{letter}{d(3)}-{d(3)}-{d(2)}-{d(3)}-{d(1)}",
                       f"{d(8)}", f"{letter}{d(3)}-{d(4)}-{d(4)}", f"{letter}{d(12)}", f"{letter}{d(2)}-{d(2)}-{d(4)}"])


TEMPLATES: dict[str, dict[str, list[str]]] = {
    "EMAIL_ADDRESS": {
        "en": ["Please reply to {v} with the signed contract.", "Customer email: {v}", "cc {v} on the thread",
               "My address is {v}, thanks!", "Forwarded from <{v}>: the invoice is attached."],
        "de": ["Bitte antworten Sie an {v}.", "E-Mail des Kunden: {v}"],
        "fr": ["Écrivez-moi à {v} svp.", "Courriel : {v}"],
        "es": ["Mi correo es {v}", "Enviar a {v} antes del viernes"],
    },
    "PHONE_NUMBER": {
        "en": ["Call me back at {v} after 5pm.", "Customer phone: {v}", "You can reach the driver on {v}.",
               "My number is {v} if anything changes", "Phone {v} — ask for Sam."],
        "de": ["Rufen Sie mich unter {v} an.", "Telefon: {v}", "Erreichbar unter {v} ab 9 Uhr."],
        "fr": ["Appelez-moi au {v} demain.", "Tél : {v}"],
        "es": ["Llámame al {v} por la tarde.", "Teléfono: {v}"],
        "it": ["Chiamami al {v}.", "Telefono: {v}"],
        "nl": ["Bel me op {v}.", "Telefoon: {v}"],
        "pt": ["Ligue para {v} amanhã.", "Telefone: {v}"],
    },
    "CREDIT_CARD": {
        "en": ["Charge it to my card {v}, expiry 09/27.", "Card number: {v}", "I paid with {v} but was billed twice.",
               "Visa ending... actually the full number is {v}"],
        "de": ["Meine Kreditkarte: {v}", "Bitte belasten Sie die Karte {v}."],
        "fr": ["Ma carte bancaire est la {v}."],
    },
    "US_SSN": {
        "en": ["Applicant SSN: {v}", "My social security number is {v}.", "SSN {v} on the W-2 form",
               "Verify identity with SSN: {v} and date of birth 04/12/1986"],
    },
    "IBAN_CODE": {
        "en": ["Please wire the refund to IBAN {v}.", "Bank account: {v}", "Pay to {v} by Friday."],
        "de": ["Bitte überweisen Sie an {v}.", "IBAN: {v}"],
        "fr": ["Virement sur le compte {v} svp.", "Mon IBAN est {v}"],
        "es": ["Transferir a la cuenta {v}"],
        "it": ["Bonifico sull'IBAN {v}"],
        "nl": ["Maak het over naar {v}."],
    },
    "IP_ADDRESS": {
        "en": ["The request came from {v} at 03:14 UTC.", "Server {v} is not responding to ping.",
               "Whitelist {v} in the firewall.", "ssh admin@{v} failed with timeout", "Client IP: {v}"],
        "de": ["Der Server {v} antwortet nicht."],
    },
    "US_DRIVER_LICENSE": {
        "en": ["Driver's license number: {v}", "My driver license is {v}, issued in California.",
               "DL# {v} expires next year", "Please verify driver's licence {v}.", "Driving license no. {v}",
               "DL: {v}", "driver's license {v} (NY)"],
    },
}
LOCALE_OF = {"en": ["en_US", "en_GB", "en_IN"], "de": ["de_DE"], "fr": ["fr_FR"], "es": ["es_ES"], "it": ["it_IT"],
             "nl": ["nl_NL"], "pt": ["pt_BR"]}


def negatives(rng: random.Random) -> list[str]:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    bad_card = d(16)
    while luhn_ok(bad_card):
        bad_card = d(16)
    return [
        f"Order #{d(8)} shipped on 2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}.",
        f"Order number {rng.choice('123456789')}{d(9)} is delayed.",
        f"Upgrade to version {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)} before Monday.",
        f"Running build 10.0.{d(5)}.{d(4)} on the test machine.",
        f"Release v{rng.randint(1, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)} fixed the crash.",
        f"Meeting at {rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)} on {rng.randint(10, 28)}/0{rng.randint(1, 9)}/2024.",
        f"The deadline is {rng.randint(10, 28)}.0{rng.randint(1, 9)}.2025, not 2025-0{rng.randint(1, 9)}-{rng.randint(10, 28)}.",
        f"Ticket ID {rng.randint(2019, 2025)}-{d(3)}-{d(4)} was closed.",
        f"Part no. {d(3)}-{d(4)} is out of stock.",
        f"Invoice INV-{rng.randint(2019, 2025)}-{d(6)} totals $1,{d(3)}.{d(2)}.",
        f"ISBN 978-{rng.randint(0, 9)}-{d(2)}-{d(6)}-{rng.randint(0, 9)} is the second edition.",
        f"Tracking number 1Z{d(3)}AA{d(10)} shows it in transit.",
        f"Reference {bad_card} could not be matched to an order.",
        f"UUID 123e4567-e89b-12d3-a456-{d(12)} is the session id.",
        f"Commit 9fceb02d0ae598e95dc970b74767f19372d61af8 broke the build at line {d(3)}.",
        f"Coordinates {rng.randint(10, 60)}.{d(4)}, {rng.randint(1, 30)}.{d(4)} are the warehouse.",
        f"Population grew to {rng.randint(10, 99)},{d(3)},{d(3)} in 2023.",
        f"Use the ratio 16:9 and a resolution of 1920x1080 at {rng.randint(24, 120)} fps.",
        f"std::vector<int> v; v.reserve({d(4)}); // C++ snippet",
        f"Account {d(8)} balance is {rng.randint(100, 9999)}.{d(2)} EUR.",
        f"Zip code {d(5)}, room {rng.randint(100, 999)}, extension {d(4)}.",
        f"SKU {rng.choice('123456789')}{d(12)} (EAN) restocked.",
        f"Temperature range -{rng.randint(1, 20)}.5 to {rng.randint(20, 40)}.0 degrees.",
        f"MAC address 00:1A:2B:{d(2)}:{d(2)}:{d(2)} was seen on the network.",
        f"Pages {rng.randint(100, 200)}-{rng.randint(201, 400)} cover the 2019-2023 results.",
        f"The timestamp 2024-03-15T10:{rng.randint(10, 59)}:{rng.randint(10, 59)}Z marks the outage.",
        f"Serial number SN-{rng.randint(2019, 2025)}-{rng.randint(10, 12)}-{d(4)} failed QA.",
        f"Employee id {d(6)} joined team {d(3)}.",
        f"Shipment {d(3)} {d(3)} {d(3)} left the depot.",
        f"Case {d(4)}-{d(2)}-{d(3)} is pending review.",
        f"Batch {rng.randint(1, 9)}.{d(2)}.{d(2)}.{d(2)}.{d(2)} of the model.",
        f"Flight BA {d(3)} departs at {rng.randint(10, 23)}:{d(2)} from gate {rng.randint(1, 60)}.",
        f"Total: {d(3)} {d(3)} {d(3)} units in {rng.randint(2019, 2025)}.",
        "Summarise this article about the history of the printing press in three bullet points.",
        "Translate 'good morning, how are you?' into German and French.",
        "Write a SQL query that counts orders per day for the last 30 days.",
        "Classify the sentiment of: 'The delivery was late but support was helpful.'",
        f"Compute {d(3)} * {d(3)} + {d(4)} and explain each step.",
    ]


def build(seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    out: list[dict] = []

    def add(locale: str, pieces: list[tuple[str, str | None]]) -> None:
        text, spans = "", []
        for chunk, etype in pieces:
            if etype:
                spans.append({"start": len(text), "end": len(text) + len(chunk), "type": etype})
            text += chunk
        out.append({"id": f"g{len(out):04d}", "locale": locale, "text": text, "spans": spans})

    def render(etype: str, lang: str, locale: str) -> tuple[str, str, str]:
        template = rng.choice(TEMPLATES[etype][lang])
        value = {
            "EMAIL_ADDRESS": lambda: email(rng), "PHONE_NUMBER": lambda: phone(rng, locale),
            "CREDIT_CARD": lambda: card(rng), "US_SSN": lambda: ssn(rng, "SSN" in template or "social" in template),
            "IBAN_CODE": lambda: iban(rng), "US_DRIVER_LICENSE": lambda: driver_license(rng),
            "IP_ADDRESS": lambda: ipv4(rng) if rng.random() < 0.7 else ipv6(rng),
        }[etype]()
        before, after = template.split("{v}")
        return before, value, after

    for etype, by_lang in TEMPLATES.items():
        n = 90 if etype in ("PHONE_NUMBER",) else 60
        langs = list(by_lang)
        for i in range(n):
            lang = langs[i % len(langs)]
            locale = rng.choice(LOCALE_OF[lang])
            before, value, after = render(etype, lang, locale)
            add(locale, [(before, None), (value, etype), (after, None)])
    # records with two entities
    types = list(TEMPLATES)
    for _ in range(80):
        a, b = rng.sample(types, 2)
        b1, v1, a1 = render(a, "en", "en_US")
        b2, v2, a2 = render(b, "en", "en_US")
        add("en_US", [(b1, None), (v1, a), (a1 + " Also: ", None), (b2, None), (v2, b), (a2, None)])
    # negatives
    for _ in range(18):
        for text in negatives(rng):
            add("en_US", [(text, None)])
    return out


def main() -> None:
    records = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} records -> {OUT}")




# Written by hand, not by the templates above: realistic prompts, odd placements, near misses.
# [[TYPE|value]] marks an entity; everything else is plain text.
HANDWRITTEN = [
    "Hi, I'm locked out. My login is [[EMAIL_ADDRESS|m.rossi@studio-rossi.it]] and the reset mail never arrives.",
    "pls call back asap → [[PHONE_NUMBER|+39 347 123 4567]] (mobile) or the office on [[PHONE_NUMBER|06 4567 8901]]",
    "Customer wrote: \"my card [[CREDIT_CARD|5425 2334 3010 9903]] was charged twice for order 88231\"",
    "Refund to IBAN [[IBAN_CODE|NL91ABNA0417164300]] please, reference RF-2291.",
    "Our VPN gateway [[IP_ADDRESS|172.16.254.1]] drops connections after 10.2.1 update",
    "Summarise: applicant (SSN [[US_SSN|219-09-9998]]) requests a loan of 25,000 USD over 60 months.",
    "Employee record — DL number [[US_DRIVER_LICENSE|F255-921-50-094-0]], state FL, exp 2027",
    "Log line: 2024-06-01T12:00:03Z GET /api/v2/orders/99812 from [[IP_ADDRESS|2001:db8:3333:4444:5555:6666:7777:8888]]",
    "Ring the Berlin office: [[PHONE_NUMBER|+49 30 901820]] (Mo-Fr 9-17 Uhr).",
    "Contact: [[EMAIL_ADDRESS|support+tickets@help.example.org]], phone [[PHONE_NUMBER|(212) 555-0187]]",
    "Le client [[EMAIL_ADDRESS|claire.martin@orange.fr]] demande un rappel au [[PHONE_NUMBER|01 42 68 53 00]].",
    "Paga con la tarjeta [[CREDIT_CARD|4000-0566-5566-5556]] y envía el recibo.",
    "Überweisung an [[IBAN_CODE|DE75 5121 0800 1245 1261 99]] bis Freitag.",
    "Mi teléfono es el [[PHONE_NUMBER|612 345 678]], llámame por la tarde.",
    "India support line [[PHONE_NUMBER|+91 22 2778 1234]], mobile [[PHONE_NUMBER|98200 12345]]",
    "SSN: [[US_SSN|078-05-1121]]; DOB 07/04/1976; address on file.",
    "My drivers license # is [[US_DRIVER_LICENSE|D08954796]] if you need it for the rental.",
    "Server list: [[IP_ADDRESS|10.0.0.12]], [[IP_ADDRESS|10.0.0.13]] and [[IP_ADDRESS|10.0.0.14]] are behind the LB.",
    "amex [[CREDIT_CARD|3714 496353 98431]] exp 11/26 cvv on the back",
    "Please bill [[EMAIL_ADDRESS|accounts.payable@northwind.co.uk]] and copy [[EMAIL_ADDRESS|cfo@northwind.co.uk]].",
    "WhatsApp me: [[PHONE_NUMBER|+55 11 98765-4321]]",
    "The SEPA mandate uses [[IBAN_CODE|FR14 2004 1010 0505 0001 3M02 606]].",
    "For the background check: social security number [[US_SSN|536 22 1234]], driver's license [[US_DRIVER_LICENSE|S123-4567-8901]].",
    "Our PBX is on [[PHONE_NUMBER|020 7946 0018]] and the fax on [[PHONE_NUMBER|020 7946 0019]].",
    "Blocked attacker at [[IP_ADDRESS|203.0.113.77]] after 500 failed logins.",
    "Reach me at [[EMAIL_ADDRESS|dev.ops@startup.io]] or [[PHONE_NUMBER|415.555.0199]] is wrong, use [[PHONE_NUMBER|415-555-0142]].",
    "Please contact [[US_SSN|536-22-1234]] holder about the claim; phone is [[PHONE_NUMBER|(617) 555-0110]].",
    "contact [[CREDIT_CARD|4111 1111 1111 1111]] owner re: chargeback",
    # negatives: nothing here is personal data
    "Order 1002938475 shipped 2024-05-06 via DHL, tracking JD014600006281234567.",
    "Upgrade Kubernetes from 1.27.3 to 1.28.2 and Postgres to 15.4.0.1 before the freeze.",
    "The meeting moved to 14:30:00 CET on 12.06.2024 (room 4.12).",
    "Invoice INV-2024-00017 for 3,450.00 EUR is due on 30/06/2024.",
    "Reference number 4929 1234 5678 9012 belongs to a purchase order, not a card.",
    "Support ticket #555-1234 was escalated to tier 2.",
    "ISBN 978-0-306-40615-7 and ISBN 0-306-40615-2 are the same book.",
    "Coordinates 52.5200, 13.4050; elevation 34 m; population 3,645,000.",
    "Run `git checkout 3f9a2c1` then `make -j8` and `./bin/test --seed 1234567890`.",
    "SKU 4006381333931 and EAN 5901234123457 are out of stock.",
    "Patch notes v3.14.159 fix the 12:00:00 timezone bug in build 2024.06.01.1.",
    "Serial 00:1B:44:11:3A:B7 identifies the MAC of the printer.",
    "Case 2024-118-3345 and case 2024-119-0001 were merged.",
    "Budget: 250 000 000 EUR over 5 years; headcount 1 200.",
    "Account 12345678 at sort code 12-34-56 is an internal test fixture.",
    "The UUID 550e8400-e29b-41d4-a716-446655440000 names the session.",
    "Weights: 0.25, 0.5, 0.125; thresholds 10.0.0 and 192.168 are config keys.",
    "Call the function with timeout=30 and retries=5; see RFC 7231 section 6.5.1.",
    "Phone model SM-G991B firmware G991BXXU5CVF1 released 2022-07-01.",
]


def handwritten() -> list[dict]:
    import re

    out = []
    for i, marked in enumerate(HANDWRITTEN):
        text, spans, pos = "", [], 0
        for m in re.finditer(r"\[\[([A-Z_]+)\|(.+?)\]\]", marked):
            text += marked[pos:m.start()]
            spans.append({"start": len(text), "end": len(text) + len(m.group(2)), "type": m.group(1)})
            text += m.group(2)
            pos = m.end()
        text += marked[pos:]
        out.append({"id": f"h{i:03d}", "locale": "mixed", "text": text, "spans": spans})
    return out


def write_handwritten() -> None:
    path = OUT.parent / "handwritten.jsonl"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in handwritten():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(HANDWRITTEN)} records -> {path}")


if __name__ == "__main__":
    main()
    write_handwritten()
