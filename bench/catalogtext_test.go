package bench

import (
	"math/rand/v2"
	"strings"
)

// The seeded packages' texts: a few hundred words each, drawn from a
// vocabulary of campaign words in the package's language with a Zipf
// law (a few words in most texts, most words in few), so that search
// has common words with long postings and rare ones with short, as a
// real catalog does. Every 997th package names the ombudsman, the rare
// word the benchmark asks for.
var catalogVocabulary = map[string][]string{
	"ru": strings.Fields(`домогательство домогательства домогательствах работе работа работодатель насилие насилия
		помощь помощи пострадавшая пострадавших жертва жертвы закон закона статья статьи кодекс право права защита защиты
		полиция полицию заявление суд суда адвокат юрист консультация горячая линия телефон доверия женщины женщин семья
		семье дети детей школа университет коллега коллеги начальник руководитель сотрудница сотрудников офис предприятие
		молчание страх стыд поддержка поддержку психолог психолога кризисный центр убежище приют свидетель свидетели
		доказательства переписка сообщения угрозы давление увольнение зарплата карьера репутация анонимно конфиденциально
		кампания кампании материал видео плакат интервью история истории опыт рассказ голос голоса общество общества
		регион области город село Алматы Бишкек Астана Ош Шымкент Караганда неделя месяц год сегодня вчера завтра
		важно нужно можно нельзя всегда никогда часто редко каждый каждая вместе против вместе ради`),
	"kk": strings.Fields(`зорлық зорлыққа зорлықтың зорлық-зомбылық зорлық-зомбылыққа зорлық-зомбылықтан қудалау қудалаудан
		жұмыста жұмыстағы жұмыс беруші әйелдер әйелдерге әйелдердің бала балалар балаларға отбасы отбасында көмек көмекке
		көмектің заң заңға заңның бап бабы құқық құқығы қорғау қорғауға полиция полицияға арыз арызды сот сотқа адвокат
		кеңес кеңесші сенім телефоны желісі орталық орталыққа баспана куәгер куәгерлер дәлел дәлелдер хабарлама қорқыныш
		ұят үнсіздік қолдау қолдауға психолог әріптес әріптестер басшы мекеме кеңсе жалақы мансап жасырын құпия науқан
		науқанның материал бейне плакат сұхбат оқиға тәжірибе дауыс қоғам қоғамда облыс қала ауыл Алматы Астана Шымкент
		апта ай жыл бүгін кеше ертең маңызды керек болады болмайды әрқашан ешқашан жиі сирек бірге қарсы үшін`),
	"ky": strings.Fields(`зомбулук зомбулукка зомбулуктан зомбулуктун асылуу асылуудан куугунтук жумушта жумуштагы жумуш берүүчү
		аялдар аялдарга аялдардын бала балдар балдарга үй-бүлө үй-бүлөдө жардам жардамга жардамдын мыйзам мыйзамга
		мыйзамдын берене укук укугу коргоо коргоого милиция милицияга арыз арызды сот сотко адвокат кеңеш кеңешчи ишеним
		телефону линиясы борбор борборго баш калкалоочу күбө күбөлөр далил далилдер билдирүү коркуу уят унчукпоо колдоо
		колдоого психолог кесиптеш кесиптештер жетекчи мекеме кеңсе айлык карьера жашыруун купуя кампания кампаниянын
		материал видео плакат маек окуя тажрыйба үн коом коомдо облус шаар айыл Бишкек Ош Жалал-Абад Каракол жума ай жыл
		бүгүн кечээ эртең маанилүү керек болот болбойт дайыма эч качан көп сейрек бирге каршы үчүн`),
	"en": strings.Fields(`harassment harassed harassing workplace work employer employee violence abuse help support survivor
		survivors victim victims law laws article code rights right protection police report reports court lawyer legal
		advice hotline helpline phone trust women woman family families children child school university colleague colleagues
		manager boss office company silence fear shame psychologist crisis centre shelter witness witnesses evidence messages
		threats pressure dismissal salary career reputation anonymous confidential campaign material video poster interview
		story stories experience voice voices society region city village Almaty Bishkek Astana Osh week month year today
		yesterday tomorrow important must can never always often rarely every together against`),
}

// catalogRareWord is in every 997th package: few postings.
const catalogRareWord = "омбудсмен"

// catalogText returns n words of package i's language, deterministic in i.
func catalogText(r *rand.Rand, lang string, n int) string {
	words := catalogVocabulary[lang]
	z := rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))
	out := make([]string, n)
	for j := range out {
		out[j] = words[z.Uint64()]
	}
	return strings.Join(out, " ")
}

// seedTexts returns package i's headline, description and body.
func seedTexts(i int, lang string) (headline, description, body string) {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	headline = catalogText(r, lang, 8)
	description = catalogText(r, lang, 30)
	body = catalogText(r, lang, 300)
	if i%997 == 5 {
		body += " " + catalogRareWord
	}
	return headline, description, body
}
