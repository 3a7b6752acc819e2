"""Made-up patients for the demo practice: names from Faker, the rest from the seeded `random`."""

import re
from datetime import date, timedelta

from refloop.demo import content as c
from refloop.demo import partners

# (youngest, most common, oldest) age of a new patient per department
AGES = {"spine": (22, 57, 88), "joint": (45, 68, 90), "sports-hand": (14, 38, 78)}
LANGUAGES = [
    ("English", 0.9),
    ("Spanish", 0.06),
    ("Polish", 0.015),
    ("Arabic", 0.01),
    ("Vietnamese", 0.01),
    ("American Sign Language", 0.005),
]


def pick(rng, weighted):
    """One value of [(value, weight), …]."""
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def new_patient(rng, fake, *, today: date, department: str, pediatric: bool = False) -> dict:
    """The patient fields of a new referral, as the referring office would send them."""
    if pediatric:
        age = rng.randint(9, 17)
    else:
        low, mode, high = AGES[department]
        age = int(rng.triangular(low, high, mode))
    sex = "female" if rng.random() < (0.57 if department == "joint" else 0.51) else "male"
    first = fake.first_name_female() if sex == "female" else fake.first_name_male()
    last = fake.last_name()
    town, postal_code = rng.choice(partners.TOWNS)
    if age >= 65:
        payer = rng.choice(c.PAYERS_MEDICARE)
    elif rng.random() < 0.16:
        payer = rng.choice(c.PAYERS_MEDICAID)
    elif department != "joint" and rng.random() < 0.05:
        payer = c.WORKERS_COMP
    else:
        payer = rng.choice(c.PAYERS_COMMERCIAL)
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    handle = ".".join(re.sub(r"[^a-z]", "", name.lower()) for name in (first, last))
    area = rng.choice(["217", "217", "217", "309", "618"])
    return {
        "first_name": first,
        "last_name": last,
        "date_of_birth": today - timedelta(days=age * 365 + rng.randrange(365)),
        "sex": sex,
        "phone": f"({area}) 555-{rng.randrange(10000):04d}",
        "email": f"{handle}{rng.randrange(10, 99)}@example.com" if rng.random() < 0.55 else "",
        "address": fake.street_address(),
        "city": town,
        "state": "IL",
        "postal_code": postal_code,
        "insurance_payer": payer,
        "insurance_member_id": ""
        if payer == c.WORKERS_COMP
        else f"{letters}{rng.randrange(10**8, 10**9)}",
        "preferred_language": pick(rng, LANGUAGES),
        "contact_consent": rng.random() < 0.98,
    }
