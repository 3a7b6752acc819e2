"""The evaluation set's own people, practices, payers and reasons (not refloop's demo lists).

Everything a packet says is drawn from here by a seeded random.Random, so a seed always
gives the same referral. ICD-10-CM codes are real, billable codes; NPIs carry a valid
check digit (Luhn over the 80840 prefix, as refloop.network.npi checks).
"""

import datetime as dt
import random
from dataclasses import dataclass, field

FIRST_NAMES_F = [
    "Keisha",
    "Marisol",
    "Dolores",
    "Tamika",
    "Ingrid",
    "Beatriz",
    "Yolanda",
    "Harriet",
    "Priya",
    "Rosalind",
    "Conchita",
    "Wendell",
    "Imani",
    "Gwendolyn",
    "Lucille",
    "Annika",
    "Fatima",
    "Delphine",
    "Marguerite",
    "Shonda",
    "Xiomara",
    "Colleen",
    "Bernadette",
    "Mei",
]
FIRST_NAMES_M = [
    "Desmond",
    "Ignacio",
    "Thaddeus",
    "Rashad",
    "Leopold",
    "Cornelius",
    "Tobias",
    "Emeka",
    "Reginald",
    "Ulysses",
    "Dmitri",
    "Hollis",
    "Alonzo",
    "Barnaby",
    "Jerome",
    "Kwame",
    "Vikram",
    "Augustin",
    "Lamar",
    "Osvaldo",
    "Winston",
    "Phineas",
    "Santiago",
    "Hyun",
]
LAST_NAMES = [
    "Brooks",
    "Castellanos",
    "Okonkwo",
    "Lindqvist",
    "Haverford",
    "Mbeki",
    "Pettigrew",
    "Delacroix",
    "Szymanski",
    "Abernathy",
    "Nakamura",
    "Villalobos",
    "Greenleaf",
    "Achterberg",
    "Fairbanks",
    "Quintero",
    "Rasmussen",
    "Thibodeaux",
    "Winslow",
    "Oyelaran",
    "Kowalczyk",
    "Ferreira",
    "Blackwood",
    "Esposito",
    "Huang",
    "Merriweather",
    "Dubois",
    "Gallagher",
    "Tran",
    "Yilmaz",
    "Hollingsworth",
    "Ramanathan",
    "Stroud",
    "Ibarra",
    "Whitcombe",
    "O'Donnell",
    "Garcia-Reyes",
    "McAllister",
    "St. Clair",
]
# Doctors are drawn from their own lists so a doctor never shares a patient's name.
DOCTOR_FIRST = [
    "Elena",
    "Marcus",
    "Anjali",
    "Theodore",
    "Naomi",
    "Raymond",
    "Sofia",
    "Gregory",
    "Leticia",
    "Howard",
    "Yusuf",
    "Miriam",
    "Carlos",
    "Deborah",
    "Arjun",
    "Felicia",
    "Stanley",
    "Rebecca",
    "Oluwaseun",
    "Catherine",
]
DOCTOR_LAST = [
    "Castillo",
    "Whitfield",
    "Raghunathan",
    "Bergstrom",
    "Adeyemi",
    "Lockhart",
    "Moreau",
    "Kaplan",
    "Ostrowski",
    "Fitzgerald",
    "Hassan",
    "Ellsworth",
    "Vandermeer",
    "Sato",
    "Prendergast",
    "Kimura",
    "Galloway",
    "Nwosu",
    "Carrington",
    "Delgado",
]
CREDENTIALS = ["MD", "DO", "MD", "MD, FACP", "NP", "PA-C", "MD", "DO", "FNP-BC"]

CITIES = [
    ("Millbrook", "NY", "12545"),
    ("Cedar Falls", "IA", "50613"),
    ("Harlow", "TX", "75401"),
    ("Port Elias", "ME", "04101"),
    ("Sandpoint", "ID", "83864"),
    ("Marion Grove", "OH", "43302"),
    ("Belleview", "FL", "34420"),
    ("Ashby", "MN", "56309"),
    ("Kingsport", "TN", "37660"),
    ("Red Oak", "GA", "30272"),
]
STREETS = [
    "Medical Park Dr",
    "Main St",
    "Hospital Way",
    "Orchard Ave",
    "Commerce Blvd",
    "Elm St",
    "Lakeview Rd",
    "Professional Pkwy",
    "Sycamore Ln",
    "Route 9",
]
PRACTICE_NAMES = [
    "{city} Family Medicine",
    "Riverside Primary Care",
    "{city} Internal Medicine Associates",
    "Northgate Community Health Center",
    "Blue Heron Family Practice",
    "Summit Primary Care",
    "Hillcrest Medical Group",
    "{city} Pediatric & Adult Care",
    "Oak Hollow Health Partners",
    "Meadowlands Family Physicians",
    "Good Shepherd Clinic",
    "Pinecrest Internal Medicine",
]
HOSPITALS = [
    "St. Brendan Regional Medical Center",
    "{city} General Hospital",
    "Mercy Valley Hospital",
    "University Hospital of {city}",
    "Lakeshore Memorial Hospital",
]

# (payer as printed on the form, plan) -> the value a coordinator types is "payer plan".
INSURANCE = [
    "Aetna Choice POS II",
    "Blue Cross Blue Shield PPO",
    "UnitedHealthcare Choice Plus",
    "Cigna Open Access Plus",
    "Humana Gold Plus HMO",
    "Medicare Part B",
    "Anthem Blue Cross HMO",
    "Kaiser Permanente Gold",
    "Tricare Select",
    "Medicaid",
    "Molina Healthcare",
    "Oscar Silver EPO",
    "Ambetter Balanced Care",
    "Medicare Advantage PPO",
    "Highmark BCBS Community Blue",
    "Wellcare Value Script",
    "Harvard Pilgrim HMO",
]


@dataclass(frozen=True)
class Reason:
    specialty: str
    text: str
    codes: tuple[str, ...]
    complaint: str  # what an attached office note gives as the chief complaint (a distractor)


REASONS = [
    Reason(
        "Cardiology",
        "New onset atrial fibrillation, rate controlled on metoprolol",
        ("I48.91",),
        "palpitations for two weeks",
    ),
    Reason(
        "Cardiology",
        "Exertional chest pain with abnormal ECG",
        ("R07.9", "R94.31"),
        "chest tightness climbing stairs",
    ),
    Reason(
        "Cardiology",
        "Heart failure with worsening edema",
        ("I50.9", "I10"),
        "ankle swelling and shortness of breath",
    ),
    Reason("Cardiology", "New systolic murmur, please evaluate", ("R01.1",), "follow-up visit"),
    Reason(
        "Endocrinology",
        "Uncontrolled type 2 diabetes, A1c 10.2",
        ("E11.65",),
        "high sugars at home",
    ),
    Reason("Endocrinology", "Thyroid nodule found on ultrasound", ("E04.1",), "neck fullness"),
    Reason(
        "Endocrinology", "Hyperthyroidism with weight loss and tremor", ("E05.90",), "weight loss"
    ),
    Reason(
        "Endocrinology",
        "Type 2 diabetes with hyperglycemia and morbid obesity",
        ("E11.65", "E66.01", "Z68.41"),
        "weight management",
    ),
    Reason(
        "Orthopedics",
        "Right knee osteoarthritis, failed conservative therapy",
        ("M17.11",),
        "knee pain",
    ),
    Reason("Orthopedics", "Left knee pain, primary osteoarthritis", ("M17.12",), "knee giving way"),
    Reason(
        "Orthopedics",
        "Rotator cuff tear right shoulder, nontraumatic",
        ("M75.101",),
        "shoulder pain at night",
    ),
    Reason(
        "Orthopedics",
        "Lumbar radiculopathy with low back pain",
        ("M54.16", "M54.50"),
        "back pain radiating to the leg",
    ),
    Reason(
        "Neurology", "Chronic migraine not responding to two preventives", ("G43.909",), "headaches"
    ),
    Reason("Neurology", "First unprovoked seizure", ("R56.9",), "episode of shaking"),
    Reason(
        "Neurology",
        "Memory loss, rule out early dementia",
        ("R41.3",),
        "forgetfulness per daughter",
    ),
    Reason(
        "Neurology", "Relapsing multiple sclerosis, establish care", ("G35.A",), "numbness in hands"
    ),
    Reason("Gastroenterology", "Iron deficiency anemia with melena", ("D50.9", "K92.1"), "fatigue"),
    Reason(
        "Gastroenterology", "Screening colonoscopy, family history", ("Z12.11",), "annual physical"
    ),
    Reason("Gastroenterology", "Refractory GERD, consider EGD", ("K21.9",), "heartburn"),
    Reason(
        "Gastroenterology",
        "Gallstones with recurrent epigastric pain",
        ("K80.20", "R10.13"),
        "pain after meals",
    ),
    Reason("Pulmonology", "Suspected obstructive sleep apnea", ("G47.33",), "snoring"),
    Reason("Pulmonology", "COPD with frequent exacerbations", ("J44.9",), "cough"),
    Reason("Pulmonology", "Poorly controlled asthma", ("J45.909",), "wheezing"),
    Reason(
        "Nephrology", "Resistant hypertension on three agents", ("I10",), "blood pressure check"
    ),
    Reason("Nephrology", "CKD stage 4 with hypertension", ("N18.4", "I10"), "lab review"),
    Reason("Urology", "Gross hematuria", ("R31.9",), "blood in urine"),
    Reason("Urology", "BPH with urinary symptoms", ("N40.1",), "getting up at night"),
    Reason("Urology", "Kidney stone, 7 mm, left", ("N20.0",), "flank pain"),
    Reason("Dermatology", "Changing mole on back", ("D22.5",), "skin check"),
    Reason("Dermatology", "Psoriasis not controlled with topicals", ("L40.0",), "rash"),
    Reason("Rheumatology", "Rheumatoid arthritis, start DMARD", ("M06.9",), "joint stiffness"),
    Reason("Rheumatology", "Recurrent gout flares", ("M10.9",), "toe pain"),
    Reason(
        "Psychiatry",
        "Depression with anxiety, medication management",
        ("F32.A", "F41.1"),
        "low mood",
    ),
    Reason(
        "Vascular Surgery",
        "Peripheral vascular disease with claudication",
        ("I73.9",),
        "leg pain walking",
    ),
    Reason("Ophthalmology", "Cataract, decreased vision", ("H25.9",), "blurry vision"),
    Reason("ENT", "Chronic sinusitis despite antibiotics", ("J32.9",), "congestion"),
    Reason(
        "Breast Surgery",
        "Abnormal mammogram, right breast",
        ("R92.8", "N63.0"),
        "screening follow-up",
    ),
]

URGENCIES = ["routine"] * 6 + ["urgent"] * 3 + ["stat"]


@dataclass(frozen=True)
class Practice:
    name: str
    street: str
    city: str
    state: str
    zip: str
    phone: str  # ten digits
    fax: str


@dataclass(frozen=True)
class Doctor:
    first: str
    middle: str  # an initial or ""
    last: str
    credential: str
    npi: str
    practice: Practice

    @property
    def name(self) -> str:
        """As a coordinator types it: first and last, no initial, no credential."""
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Patient:
    first: str
    middle: str
    last: str
    sex: str  # "F" or "M"
    dob: dt.date
    phone: str
    street: str
    city: str
    state: str
    zip: str
    mrn: str
    member_id: str
    group: str


@dataclass
class Referral:
    """One patient's referral: everything any layout may print about it."""

    patient: Patient
    referrer: Doctor
    receiver: Doctor  # the doctor the fax is sent to: a distractor for provider_*
    reason: Reason
    urgency: str
    insurance: str
    referral_date: dt.date
    extra: dict = field(default_factory=dict)


def check_digit(first_nine: str) -> str:
    total = 24  # the 80840 prefix's constant share of the Luhn sum
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def npi(rng: random.Random) -> str:
    first_nine = str(rng.choice("12")) + "".join(str(rng.randrange(10)) for _ in range(8))
    return first_nine + check_digit(first_nine)


def phone(rng: random.Random, area: str | None = None) -> str:
    area = area or f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    exchange = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    return area + exchange + f"{rng.randrange(10000):04d}"


def practice(rng: random.Random, names: list[str]) -> Practice:
    city, state, zip_code = rng.choice(CITIES)
    area = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    main = phone(rng, area)
    return Practice(
        name=rng.choice(names).format(city=city),
        street=f"{rng.randrange(10, 9900)} {rng.choice(STREETS)}",
        city=city,
        state=state,
        zip=zip_code,
        phone=main,
        fax=phone(rng, area),
    )


def doctor(rng: random.Random, place: Practice) -> Doctor:
    return Doctor(
        first=rng.choice(DOCTOR_FIRST),
        middle=rng.choice("ABCDEFGJKLMRSTW") if rng.random() < 0.3 else "",
        last=rng.choice(DOCTOR_LAST),
        credential=rng.choice(CREDENTIALS),
        npi=npi(rng),
        practice=place,
    )


def patient(rng: random.Random, today: dt.date) -> Patient:
    sex = rng.choice("FM")
    city, state, zip_code = rng.choice(CITIES)
    dob = today - dt.timedelta(days=rng.randrange(18 * 365, 90 * 365))
    return Patient(
        first=rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M),
        middle=rng.choice("ABCDEGHJKLMNPRSTV") if rng.random() < 0.35 else "",
        last=rng.choice(LAST_NAMES),
        sex=sex,
        dob=dob,
        phone=phone(rng),
        street=f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
        city=city,
        state=state,
        zip=zip_code,
        mrn=f"{rng.randrange(10**6, 10**8)}",
        member_id=rng.choice("WXYZHM") + "".join(str(rng.randrange(10)) for _ in range(9)),
        group=f"{rng.randrange(10**5, 10**7)}",
    )


def referral(rng: random.Random, today: dt.date, referrer: Doctor | None = None) -> Referral:
    referrer = referrer or doctor(rng, practice(rng, PRACTICE_NAMES))
    reason = rng.choice(REASONS)
    clinic = practice(
        rng,
        [
            f"{{city}} {reason.specialty} Associates",
            f"{reason.specialty} Specialists of {{city}}",
            f"Regional {reason.specialty} Clinic",
        ],
    )
    receiver = doctor(rng, clinic)
    while receiver.last == referrer.last or receiver.first == referrer.first:
        receiver = doctor(rng, clinic)  # two doctors of one name would make the label ambiguous
    return Referral(
        patient=patient(rng, today),
        referrer=referrer,
        receiver=receiver,
        reason=reason,
        urgency=rng.choice(URGENCIES),
        insurance=rng.choice(INSURANCE),
        referral_date=today - dt.timedelta(days=rng.randrange(0, 20)),
    )


# ---- how things are printed -------------------------------------------------------------

DATE_STYLES = [
    "%m/%d/%Y",
    "%b %d,%Y",
    "%d-%b-%Y",
    "%Y-%m-%d",
    "%B %d, %Y",
    "%m-%d-%Y",
    "%b %d, %Y",
    "%m/%d/%Y",
]


def show_date(day: dt.date, style: str) -> str:
    text = day.strftime(style)
    if style.startswith("%b %d") or style.startswith("%B %d"):
        text = text.replace(" 0", " ")  # "Jul 4,1996", never "Jul 04"
    return text


def show_phone(digits: str, style: int) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"({a}){b}-{c}", f"{a} {b} {c}"][
        style % 5
    ]


def label_phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
