"""The architectures' names, without Keras: what web processes need to know of the nets."""

NAFNET = "nafnet"
DEBLURGAN = "deblurgan"
SRN = "srn"
ARCHITECTURES = (NAFNET, DEBLURGAN, SRN)
