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


if __name__ == "__main__":
    main()
