"""Certificates: issuing (a job per completion of a course that grants one), the PDF, serials, reissue and
revocation, Open Badges 3.0 credentials (VC-JWT), and what verification shows.

Owns: Certificate. Must not touch: completions (read only) or the learner's account.
"""
