"""privacy-mailbot: answers GDPR requests that arrive by e-mail at privacy@jaimy.be."""

__version__ = "0.1.0"
