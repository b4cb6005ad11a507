"""Thermal printing: document model -> 1-bit raster (render) -> ESC/POS bytes (escpos_encode)
-> durable print job (queue, worker) -> the transport chosen by config (transports: preview,
usb, serial, network 9100, file). Every transport has a recording fake (fakes)."""
