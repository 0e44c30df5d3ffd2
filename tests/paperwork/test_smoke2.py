import time
from tests.paperwork.pdftext import pdf_text
from tests.patients.factories import PatientFactory
from xinqiao.paperwork.services import print_supplement, print_blank
from django.utils import translation

def test_pdf(cast, towns):
    p = PatientFactory(region=towns[0])
    doc = cast["community_doctor_a"]
    with translation.override("zh-hans"):
        t=time.time(); pdf = print_supplement(doc, p); print(time.time()-t)
        open("/tmp/supp.pdf","wb").write(pdf)
        open("/tmp/blank.pdf","wb").write(print_blank(doc, "followup"))
    print(pdf_text(pdf))
    assert 0
