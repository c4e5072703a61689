"""The sandbox wing: local stand-ins for outside services (Midtrans), so Karcis runs end to end offline."""
