"""Counting model loads: proof that switching pipelines reuses the loaded modules."""


def spy_loads(monkeypatch, *classes) -> list[str]:
    """Record the class name of every ``from_pretrained`` call on ``classes`` (the calls still load)."""
    loads = []
    for cls in classes:
        original = cls.from_pretrained.__func__

        def spy(c, *args, _original=original, _name=cls.__name__, **kwargs):
            loads.append(_name)
            return _original(c, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    return loads
