"""The exam extension: a parser for multiple-choice exam text, its checks, and what structural parity compares.

Built in, but plugged in as a user's extension would be: checks through ``@check``, parity through
``register_text_structure``. Importing the check library imports it.
"""

from harness._verdict._exam._parser import ExamQuestion, FormatError, ParsedExam, parse_exam

__all__ = ["ExamQuestion", "FormatError", "ParsedExam", "parse_exam"]
