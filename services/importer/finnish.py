"""The import's row messages in Finnish, for the error report an admin reads.

The checks (here, in the rules library and in the customers service) write their messages in
English, which the API keeps as they are (`message`); the report gives each also in Finnish
(`message_fi`, and the CSV report's "Virhe"). Each message is matched whole against the
patterns below; a part in `{m}` (a reason after a colon, a field's own error) is itself
translated. A message no pattern matches stays in English: a test imports files with every
kind of error and holds that none does.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WHAT = {
    "business id": "Y-tunnus",
    "business ID": "Y-tunnus",
    "number": "asiakasnumero",
    "customer number": "asiakasnumero",
}
_WOULD = {"updated": "päivitettäisiin", "skipped": "ohitettaisiin"}
_DELIMITER = {"a tab": "sarkain"}

# In order, the first that matches whole wins: (English message, as a regular expression;
# Finnish, with the groups by name: {m} is translated in turn, {what}, {would} and {d}
# through the words above, others go as they are).
_MESSAGES: list[tuple[str, str]] = [
    # A cell's value
    (r"is required", "on pakollinen"),
    (
        r"is required: the customer numbers are given by hand",
        "on pakollinen: asiakasnumerot annetaan käsin",
    ),
    (
        r"is required when the contact person's email or phone is given",
        "on pakollinen, kun yhteyshenkilön sähköposti tai puhelin on annettu",
    ),
    (r"must be text", "pitää olla tekstiä"),
    (r"must not be empty", "ei saa olla tyhjä"),
    (r"must be at most (?P<n>\d+) characters", "saa olla enintään {n} merkkiä"),
    (
        r"may have letters, digits and - \. / only, starting with a letter or digit",
        "saa sisältää vain kirjaimia, numeroita ja merkkejä - . /, ja sen pitää alkaa "
        "kirjaimella tai numerolla",
    ),
    (r"must be one of (?P<x>.*)", "pitää olla jokin näistä: {x}"),
    (r"must be text like 1234567-8", "pitää olla muotoa 1234567-8"),
    (r"a Business ID \(Y-tunnus\) looks like 1234567-8", "Y-tunnus on muotoa 1234567-8"),
    (
        r"the check digit of the Business ID \(Y-tunnus\) does not match",
        "Y-tunnuksen tarkistusmerkki ei täsmää",
    ),
    (r"is not an email address", "ei ole sähköpostiosoite"),
    (
        r"must be a link without spaces or line breaks",
        "pitää olla linkki ilman välilyöntejä ja rivinvaihtoja",
    ),
    (r"must be a link", "pitää olla linkki"),
    (r"must be an absolute http:// or https:// link", "pitää olla http://- tai https://-linkki"),
    (
        r"must be a date like 2026-11-27 or 27\.11\.2026",
        "pitää olla päivämäärä, kuten 27.11.2026 tai 2026-11-27",
    ),
    (r"not a date", "ei ole päivämäärä"),
    (r"must be true or false", "pitää olla kyllä tai ei"),
    (r"(?P<x>.+): '(?P<y>.*)' is not kyllä/ei", "{x}: '{y}' ei ole kyllä/ei"),
    (r"must be an option's id or name", "pitää olla vaihtoehdon nimi tai tunniste"),
    (
        r"'(?P<x>.*)' is not an option \(options: (?P<y>.*)\)",
        "'{x}' ei ole vaihtoehto (valittavissa: {y})",
    ),
    (
        r"'(?P<x>.*)' is not an option \(no options\)",
        "'{x}' ei ole vaihtoehto (vaihtoehtoja ei ole)",
    ),
    (r"the option '(?P<x>.*)' is archived", "vaihtoehto '{x}' on arkistoitu"),
    (r"no such additional field", "lisäkenttää ei ole"),
    (r"the field '(?P<x>.*)' is archived", "lisäkenttä '{x}' on arkistoitu"),
    (r"a customer group is mandatory", "asiakasryhmä on pakollinen"),
    (r"(?P<x>.+) is mandatory", "{x} on pakollinen"),
    (
        r"'(?P<x>.*)' is not yritys, alihankkija or kuluttaja",
        "'{x}' ei ole yritys, alihankkija eikä kuluttaja",
    ),
    (r"no company group named '(?P<x>.*)'", "yritysryhmää '{x}' ei ole"),
    (r"no such company group", "yritysryhmää ei ole"),
    (r"the company group '(?P<x>.*)' is archived", "yritysryhmä '{x}' on arkistoitu"),
    (
        r"no customer type named '(?P<x>.*)' \(there are none\)",
        "asiakastyyppiä '{x}' ei ole (tyyppejä ei ole)",
    ),
    (
        r"no customer group named '(?P<x>.*)' \(there are none\)",
        "asiakasryhmää '{x}' ei ole (asiakasryhmiä ei ole vielä perustettu)",
    ),
    (
        r"no customer type named '(?P<x>.*)' \(there are: (?P<y>.*)\)",
        "asiakastyyppiä '{x}' ei ole (valittavissa: {y})",
    ),
    (
        r"no customer group named '(?P<x>.*)' \(there are: (?P<y>.*)\)",
        "asiakasryhmää '{x}' ei ole (valittavissa: {y})",
    ),
    (r"no such customer type", "asiakastyyppiä ei ole"),
    (r"no such customer group", "asiakasryhmää ei ole"),
    (r"the customer type '(?P<x>.*)' is archived", "asiakastyyppi '{x}' on arkistoitu"),
    (r"the customer group '(?P<x>.*)' is archived", "asiakasryhmä '{x}' on arkistoitu"),
    (
        r"no type given and no default type is set",
        "asiakastyyppiä ei ole annettu, eikä oletustyyppiä ole asetettu",
    ),
    (r"no user named '(?P<x>.*)'", "käyttäjää '{x}' ei ole"),
    (r"no such user in this tenant", "käyttäjää ei ole"),
    (
        r"the account manager must be a user of this company",
        "asiakasvastaavan pitää olla tämän yhtiön käyttäjä",
    ),
    (
        r"'(?P<x>.*)' has bytes that are not text in the file's encoding",
        "'{x}' sisältää tavuja, jotka eivät ole tekstiä tiedoston merkistössä",
    ),
    (
        r"the cell's formula has no computed value \(the workbook was not saved by a "
        r"spreadsheet program\): save it in one, or give the value",
        "solun kaavalla ei ole laskettua arvoa (työkirjaa ei ole tallennettu "
        "taulukko-ohjelmalla): tallenna se taulukko-ohjelmalla tai anna arvo",
    ),
    (r"the cell holds the spreadsheet error (?P<x>.*)", "solussa on laskentavirhe {x}"),
    # Customers already in the register, and rows alike
    (
        r"a customer with this (?P<what>business id|number) exists already",
        "asiakas, jolla on tämä {what}, on jo olemassa",
    ),
    (
        r"a customer with this (?P<what>business id|number) exists already: it would be "
        r"(?P<would>updated|skipped)",
        "asiakas, jolla on tämä {what}, on jo olemassa: se {would}",
    ),
    (
        r"a customer of another company of the group has this (?P<what>business id|number), "
        r"and this company may not see it",
        "konsernin toisen yhtiön asiakkaalla on tämä {what}, eikä tämä yhtiö näe sitä",
    ),
    (
        r"the same (?P<what>business id|customer number) as row (?P<n>\d+)",
        "sama {what} kuin rivillä {n}",
    ),
    (
        r"the same values as row (?P<n>\d+): a row without a business ID or number is told "
        r"from the others by its values, so it would be the same customer",
        "samat arvot kuin rivillä {n}: rivi, jolla ei ole Y-tunnusta eikä asiakasnumeroa, "
        "tunnistetaan arvoistaan, joten se olisi sama asiakas",
    ),
    (
        r"a customer named (?P<x>.+) exists already \(number (?P<n>[^()]+)\): this row would "
        r"create another one; if it is that customer, give its number in the row",
        "asiakas nimeltä {x} on jo olemassa (asiakasnumero {n}): rivi loisi uuden asiakkaan; "
        "jos se on sama asiakas, anna rivillä sen asiakasnumero",
    ),
    (
        r"customers named (?P<x>.+) exist already \(numbers (?P<n>[^()]+)\): this row would "
        r"create another one; if it is one of them, give its number in the row",
        "asiakkaita nimeltä {x} on jo (asiakasnumerot {n}): rivi loisi uuden asiakkaan; jos "
        "se on jokin niistä, anna rivillä sen asiakasnumero",
    ),
    (
        r"the same row \(every value the same\) was imported before, as customer (?P<x>.+): "
        r"it is not created again",
        "sama rivi (kaikki arvot samat) on tuotu aiemmin, asiakkaaksi {x}: sitä ei luoda uudelleen",
    ),
    (
        r"the same customer as row (?P<n>\d+), which updates it",
        "sama asiakas kuin rivillä {n}, joka päivittää sen",
    ),
    (r"the number (?P<x>.+) is taken", "asiakasnumero {x} on jo käytössä"),
    (
        r"the number (?P<x>.+) is another customer's, whose business ID is (?P<y>.+)",
        "asiakasnumero {x} on toisen asiakkaan, jonka Y-tunnus on {y}",
    ),
    (r"the number (?P<x>.+) is another customer's", "asiakasnumero {x} on toisen asiakkaan"),
    (r"could not be updated", "asiakasta ei voitu päivittää"),
    (r"skipped: (?P<m>.+)", "ohitettu: {m}"),
    # The hierarchy
    (r"no customer has the number (?P<x>.+)", "millään asiakkaalla ei ole asiakasnumeroa {x}"),
    (
        r"no customer has this number, in the file or the register",
        "millään asiakkaalla ei ole tätä asiakasnumeroa, ei tiedostossa eikä rekisterissä",
    ),
    (r"a customer cannot be its own parent", "asiakas ei voi olla oma pääyksikkönsä"),
    (
        r"would make the customer its own parent",
        "tekisi asiakkaasta oman pääyksikkönsä",
    ),
    (
        r"would make the customer its own parent through links made while the company "
        r"structure was not shared: set the parent of the customers between them again first",
        "tekisi asiakkaasta oman pääyksikkönsä linkeillä, jotka tehtiin, kun yritysrakenne ei "
        "ollut jaettu: aseta ensin uudelleen niiden välissä olevien asiakkaiden pääyksiköt",
    ),
    (
        r"the parents of rows (?P<x>.+) form a loop",
        "rivien {x} pääyksiköt muodostavat kehän",
    ),
    (
        r"the parent \(row (?P<n>\d+)\) is not imported: (?P<m>.+)",
        "pääyksikköä (rivi {n}) ei tuoda: {m}",
    ),
    (
        r"a parent above this row \(row (?P<n>\d+)\) is not imported: (?P<m>.+)",
        "ylempää pääyksikköä (rivi {n}) ei tuoda: {m}",
    ),
    (r"it has errors", "siinä on virheitä"),
    # Columns and the file
    (r"this required column is missing", "tämä pakollinen sarake puuttuu"),
    (r"the file has no rows under its header", "tiedostossa ei ole rivejä otsikkorivin alla"),
    (
        r"the tenant's settings have not reached the importer yet",
        "asetukset eivät ole vielä ehtineet tuontipalveluun: yritä hetken kuluttua uudelleen",
    ),
    (
        r"this column is not a column of the import: map it or leave it out",
        "sarake ei ole tuonnin sarake: kohdista se johonkin tai jätä se pois",
    ),
    (
        r"the column '(?P<x>.*)' \((?P<a>[A-Z]+)\) is imported as this already: this one "
        r"\((?P<b>[A-Z]+)\) is not imported",
        "sarake '{x}' ({a}) tuodaan jo tähän: tätä saraketta ({b}) ei tuoda",
    ),
    (
        r"the column has no header, so its value is not imported: give the column a header, "
        r"or leave the value out",
        "sarakkeella ei ole otsikkoa, joten sen arvoa ei tuoda: anna sarakkeelle otsikko tai "
        "jätä arvo pois",
    ),
    (
        r"the row has (?P<n>\d+) cells, the header (?P<k>\d+): a value with (?P<d>.+) in it "
        r"must be in quotes",
        "rivillä on {n} solua, otsikkorivillä {k}: arvon, jossa on {d}, pitää olla "
        "lainausmerkeissä",
    ),
    (
        r"the customers service could not create the customers of this row's batch \(the "
        r"batch is kept in (?P<x>\S+) for the operator\): import these rows again",
        "customers-palvelu ei voinut luoda tämän rivin erän asiakkaita (erä on tallessa "
        "jonossa {x} ylläpitoa varten): tuo nämä rivit uudelleen",
    ),
    (r"the file is empty", "tiedosto on tyhjä"),
    (r"the file is larger than (?P<n>\d+) MiB", "tiedosto on suurempi kuin {n} MiB"),
    (
        r"the workbook is password-protected or an old \.xls file: save it as an unprotected "
        r"\.xlsx or as CSV",
        "työkirja on suojattu salasanalla tai vanha .xls-tiedosto: tallenna se suojaamattomana "
        ".xlsx-tiedostona tai CSV:nä",
    ),
    (r"the file is not an Excel workbook \(\.xlsx\)", "tiedosto ei ole Excel-työkirja (.xlsx)"),
    (
        r"the workbook is broken: it cannot be opened as \.xlsx",
        "työkirja on rikki: sitä ei voi avata .xlsx-tiedostona",
    ),
    (r"the workbook is broken: (?P<x>.+)", "työkirja on rikki: {x}"),
    (r"the workbook has no worksheet", "työkirjassa ei ole laskentataulukkoa"),
    (
        r"the file is a PDF document, not CSV or an Excel workbook \(\.xlsx\)",
        "tiedosto on PDF-asiakirja, ei CSV eikä Excel-työkirja (.xlsx)",
    ),
    (
        r"the file is JSON, not CSV or an Excel workbook \(\.xlsx\)",
        "tiedosto on JSON, ei CSV eikä Excel-työkirja (.xlsx)",
    ),
    (
        r"the file is neither CSV nor an Excel workbook \(\.xlsx\)",
        "tiedosto ei ole CSV eikä Excel-työkirja (.xlsx)",
    ),
    (
        r'line (?P<n>\d+): a quote \("\) opens a value that takes in the lines up to line '
        r"(?P<k>\d+) as if they were one cell; remove or close it",
        'rivi {n}: lainausmerkki (") aloittaa arvon, joka ottaa mukaansa rivit riville {k} '
        "asti ikään kuin ne olisivat yksi solu; poista se tai sulje arvo",
    ),
    (
        r'the CSV cannot be read from line (?P<n>\d+) on: (?P<m>.+); a quote \("\) there may '
        r"open a value that is never closed",
        'CSV-tiedostoa ei voi lukea riviltä {n} alkaen: {m}; siellä lainausmerkki (") voi '
        "aloittaa arvon, jota ei koskaan suljeta",
    ),
    (
        r"the CSV cannot be read from line (?P<n>\d+) on: (?P<x>.+)",
        "CSV-tiedostoa ei voi lukea riviltä {n} alkaen: {x}",
    ),
    # What Python's csv reader says of a file it cannot read
    (
        r"field larger than field limit \((?P<n>\d+)\)",
        "arvo on pidempi kuin suurin sallittu ({n} merkkiä)",
    ),
    (r"line contains NUL", "rivillä on NUL-merkki"),
    # Why a job failed
    (
        r"(?P<n>\d+) rows? ha(?:s|ve) errors, so nothing was imported: correct (?:it|them), or "
        r"import with skip_errors to import the other rows",
        "{n} rivillä on virheitä, joten mitään ei tuotu: korjaa virheet, tai tuo muut rivit "
        "valinnalla skip_errors (virheelliset rivit ohitetaan)",
    ),
    (r"required columns are missing: (?P<x>.+)", "pakollisia sarakkeita puuttuu: {x}"),
    (r"the import failed: (?P<x>.+)", "tuonti epäonnistui: {x}"),
    # A field's own error after its name ("Koko: 'XL' is not an option ...")
    (r"(?P<x>[^:]+): (?P<m>.+)", "{x}: {m}"),
]
_COMPILED = [(re.compile(pattern, re.DOTALL), finnish) for pattern, finnish in _MESSAGES]


@lru_cache(maxsize=4096)
def in_finnish(message: str) -> str:
    """The message in Finnish, or as it is if no pattern matches it."""
    return translated(message) or message


def translated(message: str) -> str | None:
    """The message in Finnish; None if no pattern matches it (or a part it translates).
    The first pattern that matches wins: the specific ones come before the general."""
    for pattern, finnish in _COMPILED:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        parts = found.groupdict()
        if "m" in parts:
            inner = translated(parts["m"])
            if inner is None:
                continue
            parts["m"] = inner
        if "what" in parts:
            parts["what"] = _WHAT[parts["what"]]
        if "would" in parts:
            parts["would"] = _WOULD[parts["would"]]
        if "d" in parts:
            parts["d"] = _DELIMITER.get(parts["d"], parts["d"])
        return finnish.format(**parts)
    return None
