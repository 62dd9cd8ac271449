"""Prose in many languages and scripts survives the text cleaner; non-English chrome does not.

The paragraphs are written for these tests (one local-news item, told in each language).
"""

import pytest

from cleanpipe.stages.langid import identify
from cleanpipe.stages.lines import analyse
from cleanpipe.stages.strip import clean_dump, strip_text

PROSE = {
    "hu": "A városi tanács kedden este döntött arról, hogy a régi piaccsarnokot felújítják, és jövő nyártól újra "
          "megnyitják a helyi termelők előtt. A polgármester szerint a munkálatok nagyjából nyolc hónapig tartanak, a "
          "költségek nagy részét pedig uniós pályázatból fedezik. A környékbeli boltosok örülnek a döntésnek, mert "
          "remélik, hogy több vásárló érkezik majd a belvárosba.",
    "ro": "Consiliul local a decis marți seara ca vechea piață din centrul orașului să fie renovată și redeschisă "
          "pentru producătorii locali de vara viitoare. Potrivit primarului, lucrările vor dura aproximativ opt luni, "
          "iar cea mai mare parte a costurilor va fi acoperită din fonduri europene. Comercianții din zonă se bucură de "
          "această decizie, pentru că speră că vor veni mai mulți cumpărători în centru.",
    "cs": "Městská rada v úterý večer rozhodla, že stará tržnice v centru bude opravena a od příštího léta znovu "
          "otevřena pro místní zemědělce. Podle starosty potrvají práce zhruba osm měsíců a většinu nákladů pokryjí "
          "evropské dotace. Obchodníci z okolí rozhodnutí vítají, protože doufají, že do centra přijde více zákazníků.",
    "da": "Byrådet besluttede tirsdag aften, at den gamle markedshal i midtbyen skal renoveres og genåbnes for lokale "
          "producenter fra næste sommer. Ifølge borgmesteren vil arbejdet tage omkring otte måneder, og det meste af "
          "udgifterne dækkes af EU-midler. De handlende i området glæder sig over beslutningen, fordi de håber, at "
          "flere kunder vil komme til byen.",
    "no": "Bystyret vedtok tirsdag kveld at den gamle markedshallen i sentrum skal pusses opp og åpnes igjen for "
          "lokale produsenter fra neste sommer. Ifølge ordføreren vil arbeidet ta rundt åtte måneder, og det meste av "
          "kostnadene dekkes av europeiske midler. Butikkeierne i området er glade for vedtaket, fordi de håper at "
          "flere kunder vil komme til sentrum.",
    "uk": "Міська рада у вівторок увечері вирішила, що старий ринок у центрі міста відремонтують і з наступного літа "
          "знову відкриють для місцевих виробників. За словами мера, роботи триватимуть близько восьми місяців, а "
          "більшу частину витрат покриють європейські кошти. Торговці з навколишніх вулиць радіють цьому рішенню, бо "
          "сподіваються, що до центру приходитиме більше покупців.",
    "tr": "Belediye meclisi salı akşamı, şehir merkezindeki eski pazar yerinin yenilenmesine ve gelecek yazdan "
          "itibaren yerel üreticilere yeniden açılmasına karar verdi. Belediye başkanına göre çalışmalar yaklaşık "
          "sekiz ay sürecek ve masrafların büyük kısmı Avrupa fonlarından karşılanacak. Bölgedeki esnaf, merkeze daha "
          "fazla müşteri geleceğini umduğu için karardan memnun.",
    "pl": "Rada miasta zdecydowała we wtorek wieczorem, że stara hala targowa w centrum zostanie wyremontowana i od "
          "przyszłego lata ponownie otwarta dla lokalnych producentów. Według burmistrza prace potrwają około ośmiu "
          "miesięcy, a większość kosztów pokryją fundusze europejskie. Kupcy z okolicy cieszą się z tej decyzji, "
          "ponieważ liczą na to, że do centrum przyjdzie więcej klientów.",
    "el": "Το δημοτικό συμβούλιο αποφάσισε την Τρίτη το βράδυ ότι η παλιά αγορά στο κέντρο της πόλης θα ανακαινιστεί "
          "και θα ανοίξει ξανά για τους τοπικούς παραγωγούς από το επόμενο καλοκαίρι. Σύμφωνα με τον δήμαρχο, οι "
          "εργασίες θα διαρκέσουν περίπου οκτώ μήνες και το μεγαλύτερο μέρος του κόστους θα καλυφθεί από ευρωπαϊκά "
          "κονδύλια.",
    "ar": "قرر المجلس البلدي مساء الثلاثاء ترميم السوق القديم في وسط المدينة وإعادة فتحه أمام المنتجين المحليين بداية "
          "من الصيف المقبل. وبحسب رئيس البلدية، ستستغرق الأشغال نحو ثمانية أشهر، وستغطي الأموال الأوروبية الجزء الأكبر "
          "من التكاليف. ويرحب التجار في الحي بهذا القرار لأنهم يأملون أن يأتي مزيد من الزبائن إلى وسط المدينة.",
    "he": "מועצת העיר החליטה ביום שלישי בערב לשפץ את השוק הישן במרכז העיר ולפתוח אותו מחדש ליצרנים מקומיים החל מהקיץ "
          "הבא. לדברי ראש העיר, העבודות יימשכו כשמונה חודשים, ורוב העלויות יכוסו מכספים אירופיים. הסוחרים באזור מברכים "
          "על ההחלטה, כי הם מקווים שיותר קונים יגיעו למרכז העיר.",
    "hi": "नगर परिषद ने मंगलवार शाम फैसला किया कि शहर के बीच में स्थित पुराने बाज़ार की मरम्मत की जाएगी और अगली "
          "गर्मियों से इसे स्थानीय किसानों के लिए फिर से खोला जाएगा। महापौर के अनुसार काम लगभग आठ महीने चलेगा और "
          "ज़्यादातर खर्च सरकारी अनुदान से पूरा होगा। आसपास के दुकानदार इस फैसले से खुश हैं, क्योंकि उन्हें उम्मीद है कि "
          "अब शहर के बीच में ज़्यादा ग्राहक आएँगे।",
    "zh": "市议会周二晚间决定，对市中心的老市场进行翻修，并从明年夏天起重新向本地农户开放。市长表示，工程预计持续约八个月，"
          "大部分费用将由专项资金承担。周边商户对这一决定表示欢迎，他们希望今后会有更多顾客来到市中心。",
    "ja": "市議会は火曜日の夜、市の中心部にある古い市場を改修し、来年の夏から地元の生産者に再び開放することを決めた。"
          "市長によると、工事はおよそ八か月かかり、費用の大部分は補助金でまかなわれる。周辺の商店主たちは、中心部にもっと"
          "多くの客が来ることを期待して、この決定を歓迎している。",
}


@pytest.mark.parametrize("language", sorted(PROSE))
def test_the_language_of_a_paragraph_is_identified(language):
    code, score = identify(PROSE[language])
    assert code == language and score > 0.5


@pytest.mark.parametrize("language", sorted(PROSE))
def test_a_prose_paragraph_is_kept_in_every_language(language):
    assert strip_text(PROSE[language]) == PROSE[language]


@pytest.mark.parametrize("language", sorted(PROSE))
def test_a_single_sentence_page_is_kept(language):
    text = PROSE[language]
    first = text[: min(i for i in (text.find(m) for m in (". ", "。", "। ")) if i > 0) + 1]
    assert strip_text(first) == first


@pytest.mark.parametrize("language", ["hu", "ro", "uk", "cs"])
def test_packaged_function_words_count_in_a_language_we_have_no_list_for(language):
    (line,) = analyse(PROSE[language])
    assert line.stop_ratio > 0.3  # prose measured on our lists' scale (a menu line has none)


HUNGARIAN_PAGE = """Címlap
Belföld
Külföld
Gazdaság
Sport
Kapcsolat

Felújítják a régi piacot

{prose}

A lakossági fórumot jövő csütörtökön tartják a művelődési házban, ahol bárki elmondhatja a véleményét a tervekről, és a tervezők is válaszolnak a kérdésekre.

Impresszum
Adatvédelem
Hirdetés
Minden jog fenntartva © 2026 Városi Hírek
"""

GERMAN_PAGE = """Startseite
Politik
Wirtschaft
Sport
Kultur
Suche

Alte Markthalle wird saniert

Der Stadtrat hat am Dienstagabend beschlossen, die alte Markthalle in der Innenstadt zu sanieren und sie ab dem nächsten Sommer wieder für Erzeuger aus der Region zu öffnen. Nach Angaben des Bürgermeisters dauern die Arbeiten etwa acht Monate, den größten Teil der Kosten tragen Fördermittel.

Die Händler in der Umgebung begrüßen die Entscheidung, weil sie hoffen, dass künftig mehr Kunden in die Innenstadt kommen.

Impressum
Datenschutz
Kontakt
Mediadaten
© 2026 Stadtanzeiger. Alle Rechte vorbehalten.
"""


@pytest.mark.parametrize("page, menu, footer, prose", [
    (HUNGARIAN_PAGE.format(prose=PROSE["hu"]), ["Címlap", "Belföld", "Gazdaság", "Kapcsolat"],
     ["Impresszum", "Adatvédelem", "Minden jog fenntartva"], [PROSE["hu"], "A lakossági fórumot"]),
    (GERMAN_PAGE, ["Startseite", "Politik", "Suche"], ["Impressum", "Datenschutz", "Mediadaten", "Alle Rechte"],
     ["Der Stadtrat hat", "Die Händler in der Umgebung"]),
], ids=["hu", "de"])
def test_a_non_english_menu_and_footer_are_removed(page, menu, footer, prose):
    result = clean_dump(page)
    text = result.text()
    for part in prose:
        assert part in text
    for chrome in menu + footer:
        assert chrome not in text
    assert result.title is not None


@pytest.mark.parametrize("page, kept", [
    ("Впереди расстилался ровный луг.", True),
    ("Oli oikein kotoista.\nHuomenna jatketaan matkaa.", True),
    ("Home\nAbout us\nContact", False),  # no sentence ends: a menu
    ("Sign up for our newsletter.", False),  # a chrome cue
    ("© 2026 Example News. All rights reserved.", False),
    ("Startseite\nDas Wetter bleibt schön.", False),  # a menu word beside it: not a page of sentences
    ("Новая линия трамвая\nЛиния открылась в понедельник.", True),  # under a title of its own
])
def test_a_page_of_a_few_short_sentences_is_its_text(page, kept):
    assert strip_text(page) == (page.replace("\n", "\n\n") if kept else "")
