"""SettingsRestore: the session's part that restores the settings a picture was made with, and undoes that.

A mixin of SessionModel (session.py), which owns the parameters, the model choice and the signals. The offer
itself (what would change, which installed model matches) is worked out in picture_restore.py; here it is
offered when a picture from outside arrives, applied, and put back by Undo, which needs the parameters from
before (kept in ``_before_restore``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.errors import RestyleError
from desktop.core.model_hash import HASH_CACHE_NAME
from desktop.core.model_match import installed_models

from .picture_restore import RestoreOffer, build_offer, undo_changes

if TYPE_CHECKING:
    from desktop.core.picture_settings import PictureSettings


class SettingsRestore:
    """Offer, apply and undo a picture's settings."""

    def offer_for(self, settings: PictureSettings, source: str = "The picture") -> RestoreOffer:
        """What restoring ``settings`` would change now, with its model looked up among the installed ones."""
        installed = installed_models(self.settings.library_paths, [self._params.model, *self.settings.recent_models])
        notes: list[str] = []
        if settings.style_hashes:  # A1111's <lora:…> tags, pointed at the user's files by name or by hash
            prompt, notes = self.styles.match_restored(settings.prompt, dict(settings.style_hashes))
            settings = replace(settings, prompt=prompt)
        return build_offer(source, settings, self._params, installed, self.settings.data_dir / HASH_CACHE_NAME,
                           has_lora=lambda name: self.styles.lora(name) is not None, notes=tuple(notes))

    def restore_settings(self, offer: RestoreOffer, *, use_model: bool = False) -> None:
        """Apply a picture's settings (the seed too, so the result can be remade); ``use_model`` also switches to
        the installed model it was made with. ``undo_restore`` puts everything back."""
        self._before_restore = (self._params, offer, use_model and bool(offer.model))
        self.update_params(**offer.changes)
        if use_model and offer.model:
            self.set_model(offer.model)
        self.status_changed.emit(" ".join([f"Settings restored from {offer.source}.", *offer.notes]))
        self.restore_applied.emit(offer)

    def undo_restore(self) -> bool:
        """Put back the settings (and model) the last restore replaced; False when there is nothing to undo."""
        if self._before_restore is None:
            return False
        before, offer, switched = self._before_restore
        self._before_restore = None
        if switched and before.model != self._params.model:
            self.set_model(before.model)
        self.update_params(**undo_changes(before, offer))
        self.status_changed.emit("The settings from before the restore are back.")
        return True

    def _offer_settings_in(self, path: Path) -> None:
        """A picture from outside: offer the settings its file carries (metadata_found), if any."""
        # Imported at the first picture, not with the window: the readers of every tool's settings and PIL's
        # PNG plugin are about 15 ms of start-up.
        from desktop.core.picture_settings import read_picture_settings

        try:
            settings = read_picture_settings(path)
        except RestyleError as exc:  # a settings text no tool writes: say so, keep the picture
            self.status_changed.emit(exc.message)
            settings = None
        if settings is not None:
            self.metadata_found.emit(self.offer_for(settings, path.name))
