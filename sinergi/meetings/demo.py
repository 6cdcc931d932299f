"""Demo meetings of Kepulauan Bangka Belitung, with commitments and their progress.

A provincial rakor teknis with nine topics in three desks (as the 2020
rakor teknis of the province had), a sinergitas visit to each kabupaten/kota,
a TKPK poverty rakor whose commitments carry baselines, and an upcoming
evaluation rakor. Dates are relative to today and progress is recorded over
the past months, so some commitments are late, some done, some in progress,
and the ones bound to the registry move with it.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from sinergi.agencies.models import Agency
from sinergi.regions.codes import village_in_q
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from . import progress, services
from .models import MARK_CANCELLED, MARK_DONE, PROGRESS, Commitment, Meeting

RAKOR_DESKS = [
    ("Infrastruktur dan Layanan Dasar", [
        "Cakupan jaringan telekomunikasi desa blank spot",
        "Kepemilikan akta kelahiran anak",
        "Jaminan kesehatan bagi keluarga miskin"]),
    ("Ekonomi Keluarga", [
        "Akses KUR bagi usaha mikro perempuan",
        "Pengembangan Industri Rumahan (IR)",
        "Penguatan kelompok UPPKA"]),
    ("Tata Kelola dan PUG", [
        "Perencanaan dan Penganggaran Responsif Gender (PPRG)",
        "BUMDes di setiap desa",
        "Pemutakhiran data terpadu (DTSEN)"]),
]


def build(ctx) -> None:
    province = ctx.province
    if Meeting.objects.filter(region__code__startswith=province).exists():
        ctx.say(f"Meetings: already present in province {province}; kept")
        return
    if not Agency.objects.filter(region_id=province).exists():
        ctx.say("Meetings: no agencies of the demo province; skipped")
        return
    today = timezone.localdate()
    demo = _Demo(province, today)
    demo.rakor_teknis()
    demo.sinergitas_visits()
    demo.tkpk()
    demo.upcoming()
    fresh = Commitment.objects.filter(pk__in=[c.pk for c in demo.commitments])
    states = progress.progress_of(fresh, today)
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state.status] = counts.get(state.status, 0) + 1
    ctx.say(f"Meetings: {demo.meetings} meetings, {len(demo.commitments)} commitments "
            f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})")


class _Demo:
    def __init__(self, province: str, today: datetime.date):
        self.province = province
        self.today = today
        self.meetings = 0
        self.commitments = []
        self.kabs = list(Region.objects.filter(parent_id=province, retired_in="")
                         .order_by("code"))
        self.villages = Region.objects.filter(code__startswith=province + ".", level=4,
                                              retired_in="").count()

    def day(self, offset: int) -> datetime.date:
        return self.today + datetime.timedelta(days=offset)

    def agency(self, short: str, region: str | None = None) -> Agency:
        return Agency.objects.get(region_id=region or self.province, short_name=short)

    def meeting(self, **data) -> Meeting:
        self.meetings += 1
        return services.meeting_create(actor=None, **data)

    def commit(self, meeting, text, owner, *, support=(), region=None, due=None, unit="",
               baseline=None, target=None, source="manual", param="", agenda=None,
               updates=()):
        """A commitment and its dated updates: (days ago, kind, value, narrative)."""
        c = services.commitment_create(actor=None, meeting=meeting,
            text=text, owner_agency=owner, supporting_agencies=list(support),
            region=region or meeting.region_id, due_date=due, unit=unit,
            baseline=baseline, target=target, source=source, source_param=param,
            agenda_item=agenda.pk if agenda else None)
        for ago, kind, value, narrative in updates:
            services.progress_report(actor=None, commitment=c,
                kind=kind, date=self.day(-ago), value=value, narrative=narrative)
        self.commitments.append(c)
        return c

    def rakor_teknis(self) -> None:
        a = self.agency
        m = self.meeting(
            kind="rakor_teknis", title="Rakor Teknis Pembangunan Keluarga dan Pemberdayaan "
            "Ekonomi Perempuan", theme="Sinergi program OPD provinsi dan kabupaten/kota",
            starts_on=self.day(-240), ends_on=self.day(-239), place="Pangkalpinang",
            region=self.province, host_agency=a("Bappeda").pk,
            chair="Gubernur Kepulauan Bangka Belitung",
            minutes="Rakor dibuka oleh Gubernur dan diikuti Bupati/Walikota se-provinsi. "
                    "Peserta dibagi ke dalam tiga desk tematik; setiap desk menyepakati "
                    "komitmen bersama yang dipantau pada rakor berikutnya.")
        items = {}
        for desk, topics in RAKOR_DESKS:
            for topic in topics:
                items[topic] = services.agenda_add(actor=None, meeting=m,
                                                   desk=desk, title=topic)
        for short in ("Bappeda", "DP3ACSKB", "Dinsos", "Dinkop UKM", "Dinas PMD",
                      "Disdukcapil", "Dinkes"):
            services.participant_add(actor=None, meeting=m,
                agency=a(short).pk, name=f"Kepala {short}", position="Kepala Dinas",
                attended=True)
        for kab in self.kabs:
            services.participant_add(actor=None, meeting=m,
                                     region=kab.code, name=f"Sekda {kab.name.title()}",
                                     position="Sekretaris Daerah", attended=kab.code[-2:] != "06")
        alive = Person.objects.filter(village_in_q("village_code", self.province)).count()
        self.commit(m, "Seluruh anak usia 0-17 tahun memiliki akta kelahiran",
                    a("Disdukcapil"), support=[a("DP3ACSKB").pk], due=self.day(120),
                    unit="anak", baseline=Decimal(max(alive // 5, 1)),
                    target=Decimal(max(alive * 3 // 10, 2)),
                    source="registry.children_with_birth_certificate",
                    agenda=items["Kepemilikan akta kelahiran anak"])
        self.commit(m, "Penduduk terdaftar BPJS Kesehatan mencapai 95 persen", a("Dinkes"),
                    support=[a("Dinsos").pk], due=self.day(60), unit="jiwa",
                    baseline=Decimal(alive // 2), target=Decimal(alive * 95 // 100),
                    source="registry.persons_insured",
                    agenda=items["Jaminan kesehatan bagi keluarga miskin"])
        self.commit(m, "Usulan 25 titik BTS untuk desa blank spot kepada Kementerian",
                    a("Bappeda"), due=self.day(-60), unit="titik", baseline=Decimal(0),
                    target=Decimal(25),
                    agenda=items["Cakupan jaringan telekomunikasi desa blank spot"],
                    updates=[(150, PROGRESS, Decimal(10), "10 titik diusulkan"),
                             (90, MARK_CANCELLED, None,
                              "Program BTS dialihkan ke anggaran pusat; usulan tidak lagi "
                              "melalui provinsi")])
        self.commit(m, "300 usaha mikro perempuan mengakses KUR", a("Dinkop UKM"),
                    support=[a("DP3ACSKB").pk, a("Disperindag").pk], due=self.day(-30),
                    unit="usaha", baseline=Decimal(120), target=Decimal(300),
                    agenda=items["Akses KUR bagi usaha mikro perempuan"],
                    updates=[(180, PROGRESS, Decimal(150), "Sosialisasi KUR di 3 kabupaten"),
                             (75, PROGRESS, Decimal(210), "Kerja sama dengan dua bank "
                              "penyalur")])
        self.commit(m, "Membina 60 Industri Rumahan baru hingga level Berkembang",
                    a("DP3ACSKB"), support=[a("Disperindag").pk], due=self.day(-10),
                    unit="IR", baseline=Decimal(40), target=Decimal(100),
                    agenda=items["Pengembangan Industri Rumahan (IR)"],
                    updates=[(160, PROGRESS, Decimal(62), "Pelatihan 22 IR baru"),
                             (40, PROGRESS, Decimal(100), "Seluruh IR binaan terdata")])
        # Counted live from the groups registered (the programs demo makes some).
        self.commit(m, "47 kelompok UPPKA aktif, satu di setiap kecamatan", a("DPPKB"),
                    due=self.day(75), unit="kelompok", baseline=Decimal(18),
                    target=Decimal(47), source="groups.of_kind", param="UPPKA",
                    agenda=items["Penguatan kelompok UPPKA"])
        self.commit(m, "Semua OPD menyusun ARG dan GBS dalam RKA", a("Bappeda"),
                    support=[a("DP3ACSKB").pk], due=self.day(-45),
                    agenda=items["Perencanaan dan Penganggaran Responsif Gender (PPRG)"],
                    updates=[(100, PROGRESS, None, "12 dari 30 OPD menyusun ARG"),
                             (50, MARK_DONE, None, "Seluruh OPD menyerahkan ARG dan GBS")])
        self.commit(m, "BUMDes berdiri di setiap desa", a("Dinas PMD"), due=self.day(150),
                    unit="desa", baseline=Decimal(132), target=Decimal(self.villages),
                    agenda=items["BUMDes di setiap desa"],
                    updates=[(30, PROGRESS, Decimal(201), "69 BUMDes baru berbadan hukum")])
        # Measured by indicators: villages with a Puskesos (a village fact,
        # entered yearly) and the share of persons with a NIK (the registry).
        self.commit(m, "Puskesos aktif di setiap desa", a("Dinsos"), due=self.day(200),
                    unit="desa", baseline=Decimal(0), target=Decimal(self.villages),
                    source="indicators.villages_with", param="F_PUSKESSOS")
        self.commit(m, "Seluruh penduduk tercatat dengan NIK", a("Disdukcapil"),
                    due=self.day(180), unit="%", baseline=Decimal(90), target=Decimal(100),
                    source="indicators.value", param="NIK_PCT")
        self.commit(m, "Verifikasi dan validasi DTSEN di semua desa", a("Dinsos"),
                    support=[a("Bappeda").pk], due=self.day(-15), unit="desa",
                    baseline=Decimal(0), target=Decimal(self.villages),
                    agenda=items["Pemutakhiran data terpadu (DTSEN)"],
                    updates=[(120, PROGRESS, Decimal(140), "Verivali tahap 1"),
                             (35, PROGRESS, Decimal(280), "Verivali tahap 2")])

    def sinergitas_visits(self) -> None:
        host = self.agency("DP3ACSKB")
        for i, kab in enumerate(self.kabs):
            m = self.meeting(
                kind="sinergitas", title=f"Sinergitas Program ke {kab.name.title()}",
                starts_on=self.day(-210 + i * 14), place=kab.name.title(), region=kab.code,
                host_agency=host.pk, chair="Kepala DP3ACSKB Provinsi")
            services.issue_add(actor=None, meeting=m,
                category="violence", region=kab.code,
                description=f"Peserta melaporkan {4 + i * 2} kasus kekerasan terhadap "
                               "perempuan dan anak sejak awal tahun; layanan UPTD PPA belum "
                               "menjangkau desa terjauh.",
                raised_by="Kepala Desa")
            local = Agency.objects.filter(region_id=kab.code, short_name="DP3ACSKB").first()
            pmd = Agency.objects.filter(region_id=kab.code, short_name="Dinas PMD").first()
            if local is None or pmd is None:
                continue
            families = Household.objects.filter(village_in_q("village_code", kab.code),
                                                is_active=True, desil__lte=4).count()
            self.commit(m, "Keluarga desil 1-4 turun 10 persen melalui program terpadu",
                        local, support=[pmd.pk], due=self.day(200), unit="keluarga",
                        baseline=Decimal(families + families // 10 + 1),
                        target=Decimal(families * 9 // 10), source="registry.families_desil",
                        param="4")
            done = i % 3 == 0
            self.commit(m, "Membentuk satgas PPA di setiap kecamatan", local,
                        due=self.day(-20 + i * 15), unit="kecamatan", baseline=Decimal(0),
                        target=Decimal(6),
                        updates=[(100, PROGRESS, Decimal(2 + i % 3), "SK satgas terbit")]
                        + ([(20, PROGRESS, Decimal(6), "Semua kecamatan memiliki satgas")]
                           if done else []))

    def tkpk(self) -> None:
        a = self.agency
        m = self.meeting(
            kind="tkpk", title="Rakor TKPK Provinsi: Percepatan Penanggulangan Kemiskinan",
            theme="Komitmen bersama penanggulangan kemiskinan ekstrem",
            starts_on=self.day(-150), place="Pangkalpinang", region=self.province,
            host_agency=a("Bappeda").pk, chair="Wakil Gubernur (Ketua TKPK)")
        services.issue_add(actor=None, meeting=m,
                           category="poverty", description="Data penerima bantuan berbeda antar "
                           "OPD; banyak keluarga desil 1 tidak menerima program apa pun.")
        services.issue_add(actor=None, meeting=m,
                           category="data", description="Sebagian desa belum memutakhirkan data "
                           "penduduk di OpenSID.")
        self.commit(m, "Menambah Puskesos dari 2 unit menjadi satu di setiap kabupaten/kota",
                    a("Dinsos"), due=self.day(90), unit="Puskesos", baseline=Decimal(2),
                    target=Decimal(len(self.kabs)),
                    updates=[(60, PROGRESS, Decimal(4), "Dua Puskesos baru beroperasi")])
        self.commit(m, "Satu PLKB untuk setiap dua desa (baseline 70 PLKB)", a("DPPKB"),
                    due=self.day(-5), unit="PLKB", baseline=Decimal(70),
                    target=Decimal(self.villages // 2),
                    updates=[(80, PROGRESS, Decimal(95), "Rekrutmen PLKB non-ASN")])
        self.commit(m, "Keluarga miskin ekstrem (desil 1) tercakup bantuan sosial",
                    a("Dinsos"), support=[a("Bappeda").pk], due=self.day(45),
                    unit="keluarga", baseline=Decimal(0), target=Decimal(1),
                    source="registry.families_desil", param="1")
        self.commit(m, "Integrasi data penerima program OPD ke Sinergi", a("Bappeda"),
                    support=[a("Dinsos").pk, a("DP3ACSKB").pk], due=self.day(-60),
                    updates=[(70, PROGRESS, None, "Lima OPD mengunggah daftar penerima"),
                             (61, MARK_DONE, None, "Semua OPD anggota TKPK terhubung")])
        self.commit(m, "Pelatihan kewirausahaan bagi 500 perempuan kepala keluarga",
                    a("DP3ACSKB"), support=[a("Dinkop UKM").pk], due=self.day(30),
                    unit="orang", baseline=Decimal(0), target=Decimal(500))

    def upcoming(self) -> None:
        self.meeting(kind="rakor", title="Rakor Evaluasi Komitmen Bersama", theme="Evaluasi "
                     "komitmen rakor teknis dan TKPK", starts_on=self.day(21),
                     place="Pangkalpinang", region=self.province,
                     host_agency=self.agency("Bappeda").pk, chair="Sekretaris Daerah")
