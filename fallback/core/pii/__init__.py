"""The layers of the personal-data detector behind :mod:`fallback.core.masking`.

* :mod:`~fallback.core.pii.text`: a width-folded shadow of the text (full-width and Chinese-numeral
  digits, dashes, zero-width characters) that maps every span back to the original;
* :mod:`~fallback.core.pii.checks`: validators (ID check digit, Luhn, dates, provinces);
* :mod:`~fallback.core.pii.patterns`: the pattern layer: e-mail, ID cards, mobiles, landlines and
  service numbers, bank cards, licence plates, order numbers (kept);
* :mod:`~fallback.core.pii.cues`: the cue layer: names and addresses after cue words, and any digit run
  or account id next to a contact word (电话, 卡号, 微信 …) that no pattern took;
* :mod:`~fallback.core.pii.pseudonym`: a keyed hash for user and conversation ids.

Every layer yields :class:`~fallback.core.pii.base.Hit` readings; :func:`~fallback.core.pii.base.resolve`
keeps the best non-overlapping ones. All of it is pure (standard library only).
"""
