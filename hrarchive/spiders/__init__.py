"""Spiders: one profile-driven spider class; every site profile becomes a spider of it."""
